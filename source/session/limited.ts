/**
Run work over many items with at most `limit` at once: the mesh watch and the mesh faults ask
hundreds of members, and the control client refuses requests past its in-flight bound.
*/

export async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < items.length) {
			const item = items[next++]!;
			// eslint-disable-next-line no-await-in-loop -- each worker takes the next item once it is done with one.
			await work(item);
		}
	};

	await Promise.all(Array.from({length: Math.max(1, Math.min(limit, items.length))}, worker));
}
