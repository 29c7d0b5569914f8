import chalk from 'chalk';
import {afterEach, describe, expect, test} from 'vitest';
import {renderLine} from '../../source/ui/styled-line.js';
import {parseLine} from '../../source/ui/terminal/cells.js';
import {textWidth} from '../../source/ui/terminal/text-width.js';

const initialChalkLevel = chalk.level;
afterEach(() => {
	chalk.level = initialChalkLevel;
});

/** Cells of a styled line as the screen diff reads them: text and SGR style. */
const cellsOf = (line: string) => parseLine(line).map((cell) => [cell.text, cell.style]);
const plain = (line: string) => parseLine(line).map((cell) => cell.text).join('');
const widthOf = (line: string) => parseLine(line).reduce((sum, cell) => sum + cell.width, 0);

describe('styled lines', () => {
	test('widths count wide characters double and zero-width ones not at all', () => {
		expect(textWidth('demo-1')).toBe(6);
		expect(textWidth('● alive ██░░')).toBe(12);
		expect(textWidth('名前')).toBe(4);
		expect(textWidth('e\u0301')).toBe(1);
	});

	test('a line is exactly its width: padded in the fill style, or cut with an ellipsis in the style it cuts', () => {
		chalk.level = 3;
		const line = renderLine([{text: 'id '}, {text: '● alive', style: {color: 'green'}}], 14, {fill: {backgroundColor: 'gray'}});
		expect(widthOf(line)).toBe(14);
		expect(plain(line)).toBe('id ● alive    ');
		expect(cellsOf(line)[3]).toEqual(['●', '\u001B[0;32m']);
		expect(cellsOf(line)[13]).toEqual([' ', '\u001B[0;100m']);

		const cut = renderLine([{text: 'peers 3 '}, {text: '✕ 1 evicted', style: {color: 'red', bold: true}}], 12);
		expect(plain(cut)).toBe('peers 3 ✕ 1…');
		expect(cellsOf(cut).at(-1)).toEqual(['…', '\u001B[0;1;31m']);
		expect(widthOf(renderLine([{text: 'wide 名前名前名前'}], 9))).toBe(9);
	});

	test('without colours (chalk level 0, or no style) a line holds no escape at all', () => {
		chalk.level = 0;
		expect(renderLine([{text: 'a', style: {color: 'red', bold: true}}, {text: 'b'}], 4, {fill: {backgroundColor: 'white'}})).toBe('ab  ');
		chalk.level = 3;
		expect(renderLine([{text: 'a'}, {text: 'b', style: {}}], 3)).toBe('ab ');
	});
});
