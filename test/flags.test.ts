/**
The command line's words (source/flags.ts, Node's util.parseArgs): the flags config.ts validates, by
their camelCase names, with what meow used to do for us kept: --no-color and --no-control, a value
that begins with '-', repeated flags, and the first unknown or misused flag named for one clear line.
*/

import {expect, it} from 'vitest';
import {parseCommandLine} from '../source/flags.js';

it('hands over flags by camelCase name, numbers as typed, repeated ones as lists, the rest as input', () => {
	const {flags, input, unknownFlag, misuse} = parseCommandLine(['5555', '--report-ms', '100', '--peer', '5556,5557', '--peer=tcp://10.0.0.2:5555', '--headless', '--max-peers=64', '5558']);
	expect(flags).toEqual({reportMs: '100', peer: ['5556,5557', 'tcp://10.0.0.2:5555'], headless: true, maxPeers: '64', color: true});
	expect(input).toEqual(['5555', '5558']);
	expect(unknownFlag).toBeUndefined();
	expect(misuse).toBeUndefined();
});

it('turns --no-color and --no-control into color and control off; both are on when not given', () => {
	expect(parseCommandLine(['--no-color', '--no-control']).flags).toEqual({color: false, control: false});
	expect(parseCommandLine(['--control', '5556']).flags).toEqual({color: true, control: '5556'});
	expect(parseCommandLine([]).flags).toEqual({color: true});
});

it('takes a value that begins with a dash as the value of the flag before it', () => {
	expect(parseCommandLine(['--omega', '-1.5', '--ttl', '-1']).flags).toMatchObject({omega: '-1.5', ttl: '-1'});
});

it('names the first unknown flag as typed, long or short, and goes on parsing', () => {
	const result = parseCommandLine(['--headless', '--tll', '5', '-x']);
	expect(result.unknownFlag).toBe('--tll');
	expect(result.flags.headless).toBe(true);
	expect(parseCommandLine(['-x']).unknownFlag).toBe('-x');
});

it('says which flag lacks its value or has one it does not take', () => {
	expect(parseCommandLine(['--headless', '--bind']).misuse).toBe('--bind needs a value');
	expect(parseCommandLine(['--peer']).misuse).toBe('--peer needs a value');
	expect(parseCommandLine(['--headless=yes']).misuse).toBe('--headless takes no value');
});

it('leaves a subcommand and its own flags for the subcommand', () => {
	const result = parseCommandLine(['ctl', 'tcp://127.0.0.1:5556', 'faults', '--target', 'node-2', '--drop', '0.5']);
	expect(result.input.slice(0, 3)).toEqual(['ctl', 'tcp://127.0.0.1:5556', 'faults']);
	expect(result.unknownFlag).toBe('--target');
});
