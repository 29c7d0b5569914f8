import {defineConfig} from 'vitest/config';

export default defineConfig({
	test: {
		// The workspace packages' own tests run with the project's (packages/zmtp/test: the ZMTP engine).
		include: ['test/**/*.test.{ts,tsx}', 'packages/*/test/**/*.test.ts'],
		// Tests start real processes and sockets; two workers match the machine's two cores.
		maxWorkers: 2,
		testTimeout: 60_000,
		hookTimeout: 60_000,
		reporters: ['default', './test/helpers/summary-reporter.ts'],
	},
});
