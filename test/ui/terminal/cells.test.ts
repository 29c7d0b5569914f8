/**
A line of styled text as the screen diff reads it: cells of one character each (zero-width ones
joined to the character before), its width in columns and its style.
*/

import {describe, expect, test} from 'vitest';
import {parseLine} from '../../../source/ui/terminal/cells.js';

const red = (text: string) => `\u001B[31m${text}\u001B[39m`;

describe('cells', () => {
	test('parses styles into cells: wide characters take two columns, resets end a style', () => {
		const line = parseLine(`a${red('b')}ノ\u0301c`);
		expect(line.map((cell) => cell.text)).toEqual(['a', 'b', 'ノ\u0301', 'c']);
		expect(line.map((cell) => cell.width)).toEqual([1, 1, 2, 1]);
		expect(line[0]!.style).toBe('');
		expect(line[1]!.style).toBe('\u001B[0;31m');
		expect(line[3]!.style).toBe('');
	});
});
