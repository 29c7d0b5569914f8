import {useSyncExternalStore} from 'react';
import type {MeshStore, MeshView} from '../mesh-store.js';

/** The store's latest view; the component re-renders once per sample, at most. */
export function useMeshView(store: Pick<MeshStore, 'subscribe' | 'getView'>): MeshView {
	return useSyncExternalStore(store.subscribe, store.getView, store.getView);
}
