/**
Shared pieces of the ZMTP engine tests: waiting without fixed sleeps, and an event recorder.
*/

export async function eventually<T>(what: string, condition: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
	const deadline = performance.now() + timeoutMs;
	for (;;) {
		const value = condition();
		if (value) {
			return value;
		}

		if (performance.now() > deadline) {
			throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
		}

		// eslint-disable-next-line no-await-in-loop
		await new Promise((resolve) => setTimeout(resolve, 10));
	}
}

export async function sleep(ms: number): Promise<void> {
	await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Run `cleanup`s registered during a test, newest first; meant for afterEach. */
export class Cleanups {
	readonly #list: Array<() => unknown> = [];

	add(cleanup: () => unknown): void {
		this.#list.push(cleanup);
	}

	async run(): Promise<void> {
		for (const cleanup of this.#list.splice(0).reverse()) {
			try {
				// eslint-disable-next-line no-await-in-loop
				await cleanup();
			} catch {
				// One failed cleanup must not leave the others undone.
			}
		}
	}
}
