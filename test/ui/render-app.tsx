/**
The real App rendered by ink-testing-library on a fixed controller, with a store that samples only
when a test says so: what the UI tests drive with keys and read frame by frame.
*/

import {render} from 'ink-testing-library';
import type {MeshController} from '../../source/session/controller.js';
import {App} from '../../source/ui/app.js';
import {MeshStore} from '../../source/ui/mesh-store.js';
import {settle} from './fixtures.js';

export type RenderOptions = {columns?: number; rows?: number; color?: boolean; readonly?: boolean};

export type RenderedApp = {
	app: ReturnType<typeof render>;
	store: MeshStore;
	frame: () => string;
	press: (...keys: string[]) => Promise<void>;
};

export function renderApp(controller: MeshController, options: RenderOptions = {}): RenderedApp {
	const store = new MeshStore(controller, {sampleMs: 60_000});
	const app = render(
		<App
			controller={controller}
			store={store}
			ttlMs={5000}
			color={options.color ?? false}
			readonly={options.readonly ?? false}
			size={{columns: options.columns ?? 80, rows: options.rows ?? 24}}
		/>,
	);
	const frame = () => app.lastFrame() ?? '';
	/** Each key, then a moment for Ink to take it and render. */
	const press = async (...keys: string[]) => {
		for (const key of keys) {
			app.stdin.write(key);
			await settle();
		}
	};

	return {app, store, frame, press};
}
