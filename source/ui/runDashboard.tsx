// Runs the dashboard full screen: Ink on the alternate screen with the cursor hidden, and the terminal
// given back on every way out (q, Ctrl-C, SIGTERM, SIGHUP, SIGINT from outside, an uncaught error).
import { appendFileSync, writeSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { render } from 'ink';
import type { DashboardBackend } from '../dashboard/DashboardBackend.js';
import { executionCommands } from '../dashboard/executionActions.js';
import { serviceCommands } from '../dashboard/serviceActions.js';
import { DashboardStore } from '../store/DashboardStore.js';
import { applyColorChoice } from './inkColor.js';
import { installInkFrameCache } from './inkFrameCache.js';
import { installInkOutput } from './inkOutput.js';
import { Dashboard } from './components/Dashboard.js';

export interface RunDashboardOptions {
	backend: DashboardBackend;
	stdout?: NodeJS.WriteStream;
	stdin?: NodeJS.ReadStream;
	stderr?: NodeJS.WriteStream;
	title?: string;
	/** colour allowed (CommandContext.color: no --no-color, no NO_COLOR); default true */
	color?: boolean;
	/** STIGMER_DASHBOARD_STATS: a file that gets one JSON line a second of frame figures (benchmarks) */
	statsFile?: string;
}

/** Leave the alternate screen, show the cursor, end bracketed paste and the kitty protocol. */
export const restoreSequence = '\x1b[?2004l\x1b[<u\x1b[?1049l\x1b[?25h';

export async function runDashboard({ backend, stdout = process.stdout, stdin = process.stdin, stderr = process.stderr, title, color = true, statsFile }: RunDashboardOptions): Promise<number> {
	await installInkFrameCache();
	await installInkOutput();
	await applyColorChoice(color);
	const store = new DashboardStore();
	const frameStats = statsFile ? recordFrameStats(statsFile, stdout, stdin) : null;
	const commands = serviceCommands(store, backend);
	const executions = executionCommands(store, backend.executions);
	let restored = false;
	const restoreTerminal = () => {
		if (restored) return;
		restored = true;
		try {
			if (stdin.isTTY) stdin.setRawMode(false);
		} catch {
			// stdin already gone
		}
		try {
			// synchronous: on a signal or a crash there is no later tick to flush an async write
			if (stdout === process.stdout) writeSync(1, restoreSequence);
			else stdout.write(restoreSequence);
		} catch {
			// the terminal went away (SIGHUP): nothing to restore
		}
	};

	let stopFeed: (() => void) | null = null;
	const onSignal = (signal: NodeJS.Signals) => {
		try {
			app.unmount();
		} catch {
			// already unmounting
		}
		stopFeed?.();
		frameStats?.stop();
		restoreTerminal();
		process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as Record<string, number>)[signal]!);
	};
	const onCrash = (error: unknown) => {
		restoreTerminal();
		stderr.write(`stigmer dashboard: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
		process.exit(1);
	};
	const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGHUP', 'SIGINT'];
	for (const signal of signals) process.on(signal, onSignal);
	process.on('uncaughtException', onCrash);
	process.on('unhandledRejection', onCrash);

	const app = render(<Dashboard store={store} commands={commands} executions={executions} {...(title ? { title } : {})} />, {
		stdout,
		stdin,
		stderr,
		// The dashboard only runs on a terminal (checked before); Ink would otherwise fall back to
		// printing just the last frame whenever CI=true is set, even on a TTY.
		interactive: true,
		alternateScreen: true,
		exitOnCtrlC: false,
		// The store's batches (every 250 ms while changes keep coming) and the spinners' clock bound the
		// frames a flood or busy executions cause (4 a second); Ink's own cap only makes a key's frame wait behind the previous one (up to
		// 1000 / maxFps ms: 17 ms at 60, for a key pressed within 17 ms of a log frame, ~1 in 12 under a
		// flood, so the p95), so it is set high enough not to add to a key's latency: 4 ms.
		maxFps: 250,
		incrementalRendering: true,
		...(frameStats ? { onRender: frameStats.onRender } : {}),
	});
	try {
		stopFeed = backend.start(store);
		await app.waitUntilExit();
		return 0;
	} finally {
		stopFeed?.();
		frameStats?.stop();
		store.dispose();
		restoreTerminal();
		for (const signal of signals) process.off(signal, onSignal);
		process.off('uncaughtException', onCrash);
		process.off('unhandledRejection', onCrash);
	}
}

/**
 * Frame figures for benchmarks: renders (Ink's onRender), writes and bytes that reached the terminal,
 * render time and RSS, keys (input read → the next write to the terminal, ms) and garbage collections
 * (count, pause total and longest, ms), appended as one JSON line at the first render a second or more
 * after the last line (no timer of its own: an idle dashboard measured with it must not wake up more
 * than without).
 */
function recordFrameStats(file: string, stdout: NodeJS.WriteStream, stdin: NodeJS.ReadStream) {
	let renders = 0;
	let renderMs = 0;
	let writes = 0;
	let bytes = 0;
	let keyAt: number | null = null;
	let keys: number[] = [];
	let gcs = 0;
	let gcMs = 0;
	let gcMaxMs = 0;
	const gc = new PerformanceObserver((list) => {
		for (const entry of list.getEntries()) {
			gcs++;
			gcMs += entry.duration;
			gcMaxMs = Math.max(gcMaxMs, entry.duration);
		}
	});
	gc.observe({ entryTypes: ['gc'] });
	// with Ink reading on 'readable', a 'data' listener is called as Ink reads and changes nothing
	stdin.on('data', () => {
		keyAt ??= performance.now();
	});
	const write = stdout.write.bind(stdout) as (...args: unknown[]) => boolean;
	stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
		if (chunk.length > 0) {
			writes++;
			bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
			if (keyAt !== null) {
				keys.push(Math.round(performance.now() - keyAt));
				keyAt = null;
			}
		}
		return write(chunk, ...rest);
	}) as typeof stdout.write;
	let reportedAt = Date.now();
	const report = () => {
		reportedAt = Date.now();
		if (renders === 0 && writes === 0) return;
		const memory = process.memoryUsage();
		const line = {
			timeMs: Date.now(),
			renders,
			renderMs: Math.round(renderMs * 100) / 100,
			writes,
			bytes,
			rssBytes: memory.rss,
			heapUsedBytes: memory.heapUsed,
			heapTotalBytes: memory.heapTotal,
			externalBytes: memory.external,
			arrayBuffersBytes: memory.arrayBuffers,
			keys,
			gcs,
			gcMs: Math.round(gcMs * 10) / 10,
			gcMaxMs: Math.round(gcMaxMs * 10) / 10,
			spaces: Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size])),
		};
		appendFileSync(file, `${JSON.stringify(line)}\n`);
		renders = renderMs = writes = bytes = gcs = gcMs = gcMaxMs = 0;
		keys = [];
	};
	return {
		onRender: ({ renderTime }: { renderTime: number }) => {
			if (Date.now() - reportedAt >= 1000) report();
			renders++;
			renderMs += renderTime;
		},
		stop: () => {
			gc.disconnect();
			report();
		},
	};
}
