/**
Ends the run with one plain line, `N passed, N failed, N skipped`, which CI reads; a run that tested
nothing shows as `0 passed`. Skipped tests are counted apart, never as passed.
*/

import type {Reporter, TestModule} from 'vitest/node';

export default class SummaryReporter implements Reporter {
	onTestRunEnd(testModules: readonly TestModule[], unhandledErrors: readonly unknown[]): void {
		let passed = 0;
		let failed = 0;
		let skipped = 0;
		for (const module of testModules) {
			let failedHere = 0;
			for (const test of module.children.allTests()) {
				const {state} = test.result();
				if (state === 'passed') {
					passed++;
				} else if (state === 'failed') {
					failedHere++;
				} else {
					skipped++;
				}
			}

			// A file that failed outside its tests (an import, a beforeAll) leaves its tests skipped or
			// absent; it is still a failure, and counted as one.
			if (module.state() === 'failed' && failedHere === 0) {
				failedHere = 1;
			}

			failed += failedHere;
		}

		failed += unhandledErrors.length;
		process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
	}
}
