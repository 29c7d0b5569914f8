// The linter's settings: xo (tabs, single quotes, semicolons) tuned to this code's deliberate
// choices. Each rule turned off names its reason; every eslint-disable in the code names its own.

/** @type {import('xo').FlatXoConfig} */
const xoConfig = [
	{
		ignores: ['dist/**', 'dist-bench/**', 'packages/*/dist/**', 'media/**', 'coverage/**', 'bench/.tmp/**'],
	},
	{
		react: true,
		rules: {
			// A disable comment must say why the rule does not apply there.
			'@eslint-community/eslint-comments/require-description': ['error', {ignore: ['eslint-enable']}],

			// Formatting: line breaks and continuation indents are chosen by hand for reading.
			'@stylistic/object-curly-newline': 'off',
			'@stylistic/function-paren-newline': 'off',
			'@stylistic/array-element-newline': 'off',
			'@stylistic/curly-newline': 'off',
			'@stylistic/operator-linebreak': 'off',
			'@stylistic/indent-binary-ops': 'off',
			'@stylistic/multiline-ternary': 'off',
			'@stylistic/indent': 'off',
			// Long messages and descriptions stay on one line, where grep finds them.
			'@stylistic/max-len': ['error', {code: 200, ignoreComments: true, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true}],
			// Single quotes; a string that holds single quotes takes double ones, and a template
			// literal may stand without placeholders beside its siblings that have them.
			'@stylistic/quotes': ['error', 'single', {avoidEscape: true, allowTemplateLiterals: 'always'}],
			// The house style keeps parentheses around a single arrow parameter: `(peer) => ...`.
			'@stylistic/arrow-parens': ['error', 'always'],
			// The hot paths (Kuramoto step, screen diff, decoders) index their arrays on purpose: no
			// iterator object per loop, and the index is often needed beside the element.
			'unicorn/no-for-loop': 'off',
			'@typescript-eslint/prefer-for-of': 'off',
			// Formulas (phase steps, rates, percentiles) rely on ordinary arithmetic precedence.
			'@stylistic/no-mixed-operators': 'off',
			// JSX attributes take double quotes, self-closing tags a space: `<Text bold />`.
			'@stylistic/jsx-quotes': ['error', 'prefer-double'],
			'react/jsx-tag-spacing': ['error', {beforeSelfClosing: 'always'}],
			// The react-jsx transform (tsconfig "jsx": "react-jsx") needs no React in scope.
			'react/react-in-jsx-scope': 'off',
			// Props are never mutated; Readonly<> on every props type would only add noise.
			'react/prefer-read-only-props': 'off',
			// Props are named for what they show (`compact`, `paused`), as in Ink's own components.
			'react/boolean-prop-naming': 'off',
			// It misses props read as `props.x` inside hooks; TypeScript already checks every prop.
			'react/no-unused-prop-types': 'off',

			// UPPER_CASE module constants and the wire's snake_case fields (node_id, lamport_time) are
			// the house style and the protocol.
			'@typescript-eslint/naming-convention': 'off',
			// Bracket access marks keys that come from outside: process.env['X'], wire fields.
			'@typescript-eslint/dot-notation': 'off',
			// Sockets, streams and child processes hand out Buffer and null (an exit code); the code
			// keeps their types rather than converting at every edge.
			'@typescript-eslint/no-restricted-types': 'off',
			// Assertions sit at trust boundaries, after validation (parsed JSON, decoded frames).
			'@typescript-eslint/no-unsafe-type-assertion': 'off',
			// `() => socket.close()` reads as well as a block; callbacks ignore what they are given back.
			'@typescript-eslint/no-confusing-void-expression': 'off',
			'@typescript-eslint/strict-void-return': 'off',
			// `#private` fields sit next to the methods that use them.
			'@typescript-eslint/member-ordering': 'off',
			// A no-op callback is written `() => {}`.
			'@typescript-eslint/no-empty-function': 'off',
			// `new Promise((resolve) => setTimeout(resolve, ms))` is the sleep idiom.
			'no-promise-executor-return': 'off',
			// Buffer and process are Node's globals here, as in Node's own documentation.
			'n/prefer-global/buffer': 'off',
			'n/prefer-global/process': 'off',
			// The regexes match ASCII protocol and escape text; the u flag would change nothing.
			'require-unicode-regexp': 'off',
			// Matching control characters is the point of the painter's and the wire's regexes.
			'no-control-regex': 'off',
			// ZMTP framing, greeting flags and the painter's cell attributes are bit fields.
			'no-bitwise': 'off',
			// Hex literals are lower case, as in the ZMTP RFC and the escape-sequence references.
			'unicorn/number-literal-case': 'off',
			// The scanners (wire, Z85) work on ASCII and compare UTF-16 units; their if-chains are
			// ordered by how often each case comes on the hot path.
			'unicorn/prefer-code-point': 'off',
			'unicorn/prefer-switch': 'off',
			// Its rewrites make regexes shorter, not clearer.
			'unicorn/better-regex': 'off',
			// Comments that continue a sentence or quote code start in lower case.
			'capitalized-comments': 'off',
			// Chained ternaries `a ? x : b ? y : z` read as a table.
			'unicorn/no-nested-ternary': 'off',
			// Passing a named one-argument function (`rows.map(formatRow)`) is the point.
			'unicorn/no-array-callback-reference': 'off',
			// `const code = error.code` reads as well as destructuring, and keeps a cast readable.
			'prefer-destructuring': 'off',
			// `(await read()).stdout` reads as one step.
			'unicorn/no-await-expression-member': 'off',
			// Loops wait on flags that signal handlers and callbacks set: `while (!stopping)`.
			'no-unmodified-loop-condition': 'off',
			// sort() on an array the function has just built is the intent; toSorted() would copy it.
			'unicorn/no-array-sort': 'off',
			// A validator, an event switch and a key table are long lists of flat cases: size is
			// reviewed, not counted.
			complexity: 'off',
			// An event switch lists the kinds it words specially; a default case words the rest.
			'@typescript-eslint/switch-exhaustiveness-check': ['error', {considerDefaultExhaustiveForUnions: true}],
			'max-params': 'off',
			'max-depth': 'off',
			'max-nested-callbacks': 'off',
		},
	},
	{
		// Ink's convention: components in PascalCase files.
		files: ['source/ui/components/**/*.tsx'],
		rules: {
			'unicorn/filename-case': ['error', {cases: {kebabCase: true, pascalCase: true}}],
		},
	},
	{
		// A CLI and its benchmark workers end with an exit code.
		files: ['source/cli.tsx', 'source/run/**', 'bench/**'],
		rules: {
			'unicorn/no-process-exit': 'off',
		},
	},
	{
		// Tests and benchmarks step through processes, sockets and polls one after another on
		// purpose; in source/ each awaited loop says why it is sequential.
		files: ['test/**', 'bench/**', 'packages/*/test/**'],
		rules: {
			'no-await-in-loop': 'off',
		},
	},
	{
		// Tests read parsed NDJSON and JSON (`any`) field by field; a wrong field fails the assertion.
		files: ['test/**', 'packages/*/test/**'],
		rules: {
			'@typescript-eslint/no-unsafe-member-access': 'off',
			'@typescript-eslint/no-unsafe-assignment': 'off',
			'@typescript-eslint/no-unsafe-argument': 'off',
			'@typescript-eslint/no-unsafe-call': 'off',
			'@typescript-eslint/no-unsafe-return': 'off',
			'@typescript-eslint/restrict-plus-operands': 'off',
		},
	},
	{
		// The vitest config is outside tsconfig.json's include, so its imports have no types here.
		files: ['vitest.config.ts'],
		rules: {
			'@typescript-eslint/no-unsafe-call': 'off',
		},
	},
	{
		// A workspace package's tests use the root's devDependencies (vitest, zeromq, fast-check).
		files: ['packages/*/test/**'],
		rules: {
			'import-x/no-extraneous-dependencies': 'off',
			'n/no-extraneous-import': 'off',
		},
	},
];

export default xoConfig;
