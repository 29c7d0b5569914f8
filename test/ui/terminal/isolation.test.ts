/**
The painter is a terminal library in all but name: nothing under source/ui/terminal imports from the
UI above it (or from anywhere else in the project), so it could leave for a package of its own.
*/

import {readdirSync, readFileSync} from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {expect, test} from 'vitest';

const terminalDirectory = fileURLToPath(new URL('../../../source/ui/terminal/', import.meta.url));

test('source/ui/terminal imports only its own files and packages', () => {
	const files = readdirSync(terminalDirectory).filter((name) => /\.tsx?$/u.test(name));
	expect(files.length).toBeGreaterThan(0);
	const outside: string[] = [];
	for (const file of files) {
		const source = readFileSync(path.join(terminalDirectory, file), 'utf8');
		for (const [, specifier] of source.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gmu)) {
			if (specifier!.startsWith('.') && !specifier!.startsWith('./')) {
				outside.push(`${file}: ${specifier!}`);
			}
		}
	}

	expect(outside).toEqual([]);
});
