// Key → screen, as the terminal sees it, for the dashboard benchmarks. A tmux control-mode client
// (`tmux -C`) on the dashboard's session types the key and captures the screen through its own
// connection (no tmux process started per key or per capture), and hears the program's output
// (%output) the moment tmux reads it from the pty. After the key, each output is followed by one capture;
// the first capture that shows the toggle (`t` toggles "· time" in the log pane's title) ends the
// measure at the last output that came before it: that output brought the key's frame, or a later one
// did (the figure can only err long).
//
// The polling method before it started a tmux client for the key and one per capture, every 2 ms: on
// this 2-core machine those clients cost ~35 ms of the ~40 ms an idle key took and more under load,
// and all of it was counted as the dashboard's. Both are reported: `polled` is that method, for
// comparison with earlier figures.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';

export const timestampsOn = (screen: string) => /─ logs: .*· time/.test(screen);

/** A control-mode client of the terminal's tmux server: commands in, their output and the pane's output events out. */
class ControlClient {
	private readonly child: ChildProcessWithoutNullStreams;
	private buffered = '';
	/** commands sent and not answered yet, oldest first, and the lines of the answer being read */
	private readonly pending: Array<(lines: string[]) => void> = [];
	private block: { lines: string[]; ours: boolean } | null = null;
	/** when the pane's output was last heard (performance.now()), and a wake-up for whoever waits for it */
	lastOutputAt = 0;
	private outputWaiter: (() => void) | null = null;

	constructor(terminal: TmuxTerminal) {
		this.child = spawn('tmux', ['-L', terminal.socket, '-C', 'attach-session'], { stdio: 'pipe' });
		this.child.stdout.setEncoding('utf8');
		this.child.stdout.on('data', (chunk: string) => {
			const at = performance.now();
			this.buffered += chunk;
			for (let newline = this.buffered.indexOf('\n'); newline >= 0; newline = this.buffered.indexOf('\n')) {
				this.line(this.buffered.slice(0, newline), at);
				this.buffered = this.buffered.slice(newline + 1);
			}
		});
		this.child.on('error', () => {});
	}

	private line(line: string, at: number): void {
		if (this.block) {
			if (line.startsWith('%end ') || line.startsWith('%error ')) {
				const { lines, ours } = this.block;
				this.block = null;
				if (ours) this.pending.shift()?.(lines);
			} else this.block.lines.push(line);
		} else if (line.startsWith('%begin ')) {
			// `%begin time number flags`: flags 1 marks the answer to a command of this client (the
			// attach's own answer comes first, with 0)
			this.block = { lines: [], ours: line.split(' ')[3] === '1' };
		} else if (line.startsWith('%output ')) {
			this.lastOutputAt = at;
			const wake = this.outputWaiter;
			this.outputWaiter = null;
			wake?.();
		}
	}

	command(command: string): Promise<string[]> {
		return new Promise((resolve) => {
			this.pending.push(resolve);
			this.child.stdin.write(`${command}\n`);
		});
	}

	/** Resolves at the next output of the pane, or after `ms`. */
	nextOutput(ms: number): Promise<void> {
		return Promise.race([new Promise<void>((resolve) => (this.outputWaiter = resolve)), sleep(ms)]);
	}

	close(): void {
		this.child.stdin.end();
		this.child.kill();
	}
}

/** `t` toggles the timestamps flag in the log title: the time until the terminal gets the frame that shows it, and the same by polling. */
export async function keyLatencies(terminal: TmuxTerminal, count: number): Promise<{ latencies: number[]; polled: number[] }> {
	const latencies: number[] = [];
	const polled: number[] = [];
	const client = new ControlClient(terminal);
	const capture = async () => (await client.command('capture-pane -p')).join('\n');
	try {
		await client.command('display-message -p ready');
		for (let i = 0; i < count; i++) {
			const was = timestampsOn(await capture());
			const sent = performance.now();
			void client.command('send-keys -l t');
			const deadline = sent + 5000;
			let shownBy: number | null = null;
			while (performance.now() < deadline) {
				await client.nextOutput(50);
				const before = client.lastOutputAt;
				if (timestampsOn(await capture()) !== was) {
					shownBy = before;
					break;
				}
			}
			if (shownBy === null || shownBy < sent) throw new Error(`the key's change never showed (or showed with no output after the key):\n${await capture()}`);
			latencies.push(shownBy - sent);
			await sleep(150);
		}
		// the same number of presses the polling way
		for (let i = 0; i < count; i++) {
			const was = timestampsOn(terminal.screen());
			const sent = performance.now();
			terminal.keys('t', true);
			const deadline = sent + 5000;
			while (performance.now() < deadline && timestampsOn(terminal.screen()) === was) await sleep(2);
			polled.push(performance.now() - sent);
			await sleep(150);
		}
		if (timestampsOn(terminal.screen())) terminal.keys('t', true);
	} finally {
		client.close();
	}
	return { latencies, polled };
}
