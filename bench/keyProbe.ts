// Key → screen, as the terminal shows it, for the dashboard benchmarks. A tmux control-mode client
// (`tmux -C`) on the dashboard's session types the key and captures the screen through its one
// connection, every 2 ms (a capture takes ~1 ms there), until the capture shows the change: `t`
// toggles "· time" in the log pane's title. The latency ends when that capture's answer arrives, so it
// can only err long, by up to 3 ms. The client asks for no pane output (`no-output`): under a flood,
// tmux's stream of %output to it delayed the answers to the captures behind it.
//
// The method before it started a tmux client for the key and one per capture, every 2 ms: on this
// 2-core machine those clients cost ~15 ms of an idle key's ~40 ms and far more under load (20 busy
// executions: p95 192 ms polled against 81 ms so), all of it counted as the dashboard's. Both are
// reported: `polled` is that method, for comparison with earlier figures.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TmuxTerminal } from '../test/helpers/TmuxTerminal.js';

export const timestampsOn = (screen: string) => /─ logs: .*· time/.test(screen);

/** A control-mode client of the terminal's tmux server: commands in, their answers out, in order. */
class ControlClient {
	private readonly child: ChildProcessWithoutNullStreams;
	private buffered = '';
	/** commands sent and not answered yet, oldest first, and the lines of the answer being read */
	private readonly pending: Array<(lines: string[]) => void> = [];
	private block: { lines: string[]; ours: boolean } | null = null;

	constructor(terminal: TmuxTerminal) {
		this.child = spawn('tmux', ['-L', terminal.socket, '-C', 'attach-session'], { stdio: 'pipe' });
		this.child.stdout.setEncoding('utf8');
		this.child.stdout.on('data', (chunk: string) => {
			this.buffered += chunk;
			for (let newline = this.buffered.indexOf('\n'); newline >= 0; newline = this.buffered.indexOf('\n')) {
				this.line(this.buffered.slice(0, newline));
				this.buffered = this.buffered.slice(newline + 1);
			}
		});
		this.child.on('error', () => {});
	}

	private line(line: string): void {
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
		}
	}

	command(command: string): Promise<string[]> {
		return new Promise((resolve) => {
			this.pending.push(resolve);
			this.child.stdin.write(`${command}\n`);
		});
	}

	/** A command's answer, or null when none came within `ms` (the client is then out of step: replace it). */
	answer(command: string, ms: number): Promise<string[] | null> {
		let timer: NodeJS.Timeout | undefined;
		return Promise.race([this.command(command), new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)))]).finally(() => clearTimeout(timer));
	}

	close(): void {
		this.child.stdin.end();
		this.child.kill();
	}
}

/** `t` toggles the timestamps flag in the log title: the time until the screen shows the new state, by the control client and by polling. */
export async function keyLatencies(terminal: TmuxTerminal, count: number): Promise<{ latencies: number[]; polled: number[] }> {
	const latencies: number[] = [];
	const polled: number[] = [];
	const client = new ControlClient(terminal);
	const capture = async () => (await client.command('capture-pane -p')).join('\n');
	try {
		await client.command('refresh-client -f no-output');
		for (let i = 0; i < count; i++) {
			const was = timestampsOn(await capture());
			const sent = performance.now();
			void client.command('send-keys -l t');
			const deadline = sent + 5000;
			let shown = false;
			while (!shown && performance.now() < deadline) {
				shown = timestampsOn(await capture()) !== was;
				// paced: back to back, the captures kept tmux busy enough to slow its reading of the
				// dashboard's output (a terminal write blocks the writer when the terminal is slow)
				if (!shown) await sleep(2);
			}
			if (!shown) throw new Error(`the key's change never showed:\n${await capture()}`);
			latencies.push(performance.now() - sent);
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

/** Commands of timeToScreen answered late (> 2 s; the control client was replaced and the wait went on), for the bench's note. */
export let lateCaptures = 0;

/**
 * Keys → the screen matching `shown`, by the control client (as keyLatencies): `send` is a list of
 * send-keys arguments (`-l text` or a key name), sent in one go; resolves with the milliseconds.
 * A capture that gets no answer in 2 s (seen once under a load average of 10: the wait hung for good)
 * replaces the client and the wait goes on to its deadline; lateCaptures counts them.
 */
export async function timeToScreen(terminal: TmuxTerminal, send: string[], shown: (screen: string) => boolean, timeoutMs = 60_000): Promise<number> {
	return (await timesToScreens(terminal, send, [shown], timeoutMs)).at(-1)!;
}

/** As timeToScreen, for screens that follow each other: the milliseconds until each of `steps` first matched (in order; the last step matching settles any earlier one not seen, at its time). */
export async function timesToScreens(terminal: TmuxTerminal, send: string[], steps: Array<(screen: string) => boolean>, timeoutMs = 60_000): Promise<number[]> {
	let client = new ControlClient(terminal);
	const fresh = async () => {
		client.close();
		client = new ControlClient(terminal);
		await client.answer('refresh-client -f no-output', 2000);
	};
	try {
		// bounded too: a bench once waited here for good (its client had the flag set, no answer was read)
		if ((await client.answer('refresh-client -f no-output', 2000)) === null) {
			lateCaptures++;
			await fresh();
		}
		const sent = performance.now();
		for (const keys of send) void client.command(`send-keys ${keys}`);
		const deadline = sent + timeoutMs;
		const times: number[] = [];
		while (performance.now() < deadline) {
			const lines = await client.answer('capture-pane -p', 2000);
			if (lines === null) {
				lateCaptures++;
				await fresh();
				continue;
			}
			const screen = lines.join('\n');
			const at = performance.now() - sent;
			// in order; the last step settles any not seen (they passed between two captures)
			if (steps.at(-1)!(screen)) while (times.length < steps.length) times.push(at);
			else if (steps[times.length]!(screen)) times.push(at);
			if (times.length === steps.length) return times;
			await sleep(2);
		}
		throw new Error(`the screen never showed what was waited for in ${timeoutMs} ms:\n${terminal.screen()}`);
	} finally {
		client.close();
	}
}
