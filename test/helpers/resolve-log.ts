/**
Which modules a process loads: a module resolve hook (node:module `register`) that writes every URL
the process resolves to a file, ES modules and CommonJS modules imported from them alike.
*/

import {writeFileSync} from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const recorderHooks = String.raw`
import {appendFileSync} from 'node:fs';
let file;
export async function initialize(data) {
	file = data.file;
}

export async function resolve(specifier, context, nextResolve) {
	const result = await nextResolve(specifier, context);
	appendFileSync(file, result.url + '\n');
	return result;
}
`;

/**
Write the hook into `directory` and an empty `<name>.txt` beside it; `importUrl` is what a process
takes as `--import <url>` (or `--import=<url>` in NODE_OPTIONS) to log into that file.
*/
export function resolveRecorder(directory: string, name: string): {log: string; importUrl: string} {
	const hooks = path.join(directory, 'record-resolved.mjs');
	writeFileSync(hooks, recorderHooks);
	const log = path.join(directory, `${name}.txt`);
	writeFileSync(log, '');
	const register = `import {register} from 'node:module'; register(${JSON.stringify(pathToFileURL(hooks).href)}, {data: {file: ${JSON.stringify(log)}}});`;
	return {log, importUrl: `data:text/javascript,${encodeURIComponent(register)}`};
}
