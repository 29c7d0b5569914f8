/**
The terminal's last guard: a small shell process that gives the terminal back (its saved settings,
so raw mode off; the cursor shown; the alternate screen left) if the terminal UI dies where no
JavaScript can run: SIGSEGV, SIGKILL, an abort, the kernel's OOM killer. Crashes that JavaScript can
catch are handled in tui.tsx; this covers the rest.

It learns of the UI's death from a pipe: it reads fd 3, whose other end only the UI holds, so the
read ends when the UI's process does, however it ends. A UI that restored the terminal itself
writes `ok` first, and the guard leaves without touching anything (leaving an alternate screen
twice would move the shell's cursor). A SIGSEGV handler in JavaScript would not do: after a real
fault the handler cannot run, and the faulting instruction would repeat forever.

It runs in a session of its own, orphaned at once (double fork), so no signal for the UI's process
group reaches it and it is nobody's child process.
*/

import {spawn, spawnSync} from 'node:child_process';
import type {Writable} from 'node:stream';

export type TerminalGuard = {
	/** The terminal is restored: the guard leaves without a word. Call once, before exiting. */
	release(): void;
};

const SCRIPT = String.raw`
saved="$1"
exec 4<&0
(
	trap '' INT QUIT TSTP TTOU TTIN HUP TERM
	if IFS= read -r line <&3 && [ "$line" = ok ]; then exit 0; fi
	stty "$saved" <&4 2>/dev/null
	printf '\033[?25h\033[?1049l' 2>/dev/null
) 3<&3 &
`;

/**
Start the guard, with the terminal's settings as they are now (call before raw mode). Undefined
where it cannot run (no sh or stty): the UI then relies on its own handlers alone.
*/
export function startTerminalGuard(): TerminalGuard | undefined {
	const saved = spawnSync('stty', ['-g'], {stdio: ['inherit', 'pipe', 'ignore'], encoding: 'utf8'});
	const settings = saved.stdout?.trim();
	if (saved.status !== 0 || !settings) {
		return undefined;
	}

	let pipe: Writable | undefined;
	try {
		const child = spawn('sh', ['-c', SCRIPT, 'chorus-tui-terminal-guard', settings], {
			stdio: ['inherit', 'inherit', 'ignore', 'pipe'],
			detached: true,
		});
		child.on('error', () => {});
		child.unref();
		pipe = child.stdio[3] as Writable;
		pipe.on('error', () => {});
		(pipe as Writable & {unref?: () => void}).unref?.();
	} catch {
		return undefined;
	}

	let released = false;
	return {
		release() {
			if (released) {
				return;
			}

			released = true;
			pipe?.end('ok\n');
		},
	};
}
