// Runs the dashboard full screen: Ink on the alternate screen with the cursor hidden, and the terminal
// given back on every way out (q, Ctrl-C, SIGTERM, SIGHUP, SIGINT from outside, an uncaught error).
import { writeSync } from 'node:fs';
import { render } from 'ink';
import type { DashboardBackend } from '../dashboard/DashboardBackend.js';
import { serviceCommands } from '../dashboard/serviceActions.js';
import { DashboardStore } from '../store/DashboardStore.js';
import { Dashboard } from './components/Dashboard.js';

export interface RunDashboardOptions {
	backend: DashboardBackend;
	stdout?: NodeJS.WriteStream;
	stdin?: NodeJS.ReadStream;
	stderr?: NodeJS.WriteStream;
	title?: string;
}

/** Leave the alternate screen, show the cursor, end bracketed paste and the kitty protocol. */
export const restoreSequence = '\x1b[?2004l\x1b[<u\x1b[?1049l\x1b[?25h';

export async function runDashboard({ backend, stdout = process.stdout, stdin = process.stdin, stderr = process.stderr, title }: RunDashboardOptions): Promise<number> {
	const store = new DashboardStore();
	const commands = serviceCommands(store, backend);
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

	const app = render(<Dashboard store={store} commands={commands} {...(title ? { title } : {})} />, {
		stdout,
		stdin,
		stderr,
		alternateScreen: true,
		exitOnCtrlC: false,
		maxFps: 30,
		incrementalRendering: true,
	});
	try {
		stopFeed = backend.start(store);
		await app.waitUntilExit();
		return 0;
	} finally {
		stopFeed?.();
		store.dispose();
		restoreTerminal();
		for (const signal of signals) process.off(signal, onSignal);
		process.off('uncaughtException', onCrash);
		process.off('unhandledRejection', onCrash);
	}
}
