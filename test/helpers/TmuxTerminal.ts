// A real terminal for end-to-end tests and benchmarks: a private tmux server (its own -L socket, so
// parallel runs never meet), a window of a given size, keys in, the screen out.
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class TmuxTerminal {
	readonly socket: string;
	private alive = false;

	constructor(
		name: string,
		readonly size: { columns: number; rows: number } = { columns: 120, rows: 40 },
	) {
		this.socket = `stigmer-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
	}

	tmux(args: string[]): string {
		return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 10_000 });
	}

	/** Runs `command` in the window; after it ends the window prints its exit code and stays open. */
	start(command: string): void {
		this.alive = true;
		this.tmux(['new-session', '-d', '-x', String(this.size.columns), '-y', String(this.size.rows), `${command}; echo "STIGMER-EXIT=$?"; sleep 600`]);
	}

	/** Appends everything the program prints from now on to `file` (what a screen capture cannot see any more). */
	record(file: string): void {
		this.tmux(['pipe-pane', '-o', `cat >> '${file.replaceAll("'", `'\\''`)}'`]);
	}

	screen(): string {
		return this.tmux(['capture-pane', '-p']);
	}

	display(format: string): string {
		return this.tmux(['display', '-p', format]).trim();
	}

	/** tmux's view of the terminal modes the program left: alternate screen and cursor visibility. */
	modes(): { alternate: boolean; cursorVisible: boolean } {
		const [alternate, cursor] = this.display('#{alternate_on} #{cursor_flag}').split(' ');
		return { alternate: alternate === '1', cursorVisible: cursor === '1' };
	}

	/** Keys by tmux name (`Enter`, `Down`) or literal text with `literal`. */
	keys(keys: string, literal = false): void {
		this.tmux(['send-keys', ...(literal ? ['-l'] : []), keys]);
	}

	/** The pid of the program the window runs (a child of the window's shell; the first, or the one matching). */
	programPid(match?: RegExp): number {
		const shell = Number(this.display('#{pane_pid}'));
		const children = readFileSync(`/proc/${shell}/task/${shell}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
		for (const pid of children) {
			if (!match || match.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '))) return pid;
		}
		throw new Error(`${this.socket}: no child of ${shell}${match ? ` matches ${match}` : ''}`);
	}

	async waitFor(what: string, check: (screen: string) => boolean, timeoutMs = 20_000): Promise<string> {
		const deadline = Date.now() + timeoutMs;
		let screen = '';
		while (Date.now() < deadline) {
			screen = this.screen();
			if (check(screen)) return screen;
			await sleep(100);
		}
		throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the screen:\n${screen}`);
	}

	kill(): void {
		if (!this.alive) return;
		this.alive = false;
		let socketPath = '';
		try {
			socketPath = this.display('#{socket_path}');
			this.tmux(['kill-server']);
		} catch {
			// already gone
		}
		if (socketPath) rmSync(socketPath, { force: true });
	}
}
