/**
Waiting for the next thing a child process says: a reader parks until new output arrives, the
process exits, or its deadline passes, whichever comes first; then it looks again.
*/
export class Wakeup {
	readonly #waiters = new Set<() => void>();

	/** Resolve at the next `wakeAll()`, or after `timeoutMs`. */
	async wait(timeoutMs: number): Promise<void> {
		await new Promise<void>((resolve) => {
			const wake = () => {
				clearTimeout(timer);
				this.#waiters.delete(wake);
				resolve();
			};

			const timer = setTimeout(wake, timeoutMs);
			this.#waiters.add(wake);
		});
	}

	wakeAll(): void {
		for (const wake of this.#waiters) {
			wake();
		}
	}
}
