/** @jsxRuntime automatic */
/** @jsxImportSource react */
// (outside source/ so the build never ships ink-testing-library)
// Helpers for component tests: a Dashboard over a store fed with fixture snapshots, keys by name, and
// waits for frames instead of fixed sleeps (as cli-kit's helpers wait for input readiness).
import { setTimeout as sleep } from 'node:timers/promises';
import { render } from 'ink-testing-library';
import type { ExecutionCommands } from '../../source/dashboard/executionActions.js';
import type { ServiceCommands } from '../../source/dashboard/serviceActions.js';
import { DashboardStore } from '../../source/store/DashboardStore.js';
import { Dashboard } from '../../source/ui/components/Dashboard.js';
import { installInkFrameCache } from '../../source/ui/inkFrameCache.js';
import { installInkOutput } from '../../source/ui/inkOutput.js';

// as runDashboard draws: frames through Ink's cache of the previous frame's texts
await installInkFrameCache();
await installInkOutput();

export const keys = {
	up: '\x1b[A',
	down: '\x1b[B',
	pageUp: '\x1b[5~',
	pageDown: '\x1b[6~',
	home: '\x1b[H',
	end: '\x1b[F',
	escape: '\x1b',
	enter: '\r',
	backspace: '\x7f',
	ctrlC: '\x03',
	tab: '\t',
} as const;

export interface FakeCommands extends ServiceCommands {
	calls: string[];
	suspended: number;
}

export function fakeCommands(): FakeCommands {
	const commands: FakeCommands = {
		calls: [],
		suspended: 0,
		async run(kind, service) {
			commands.calls.push(`${kind} ${service}`);
		},
		async shell(service, suspend) {
			commands.calls.push(`shell ${service}`);
			await suspend(async () => {
				commands.suspended++;
			});
		},
	};
	return commands;
}

export function renderDashboard({
	store = new DashboardStore({ flushMs: 5 }),
	commands = fakeCommands() as ServiceCommands,
	executions,
	columns = 120,
	rows = 40,
}: {
	store?: DashboardStore;
	commands?: ServiceCommands;
	executions?: ExecutionCommands;
	columns?: number;
	rows?: number;
} = {}) {
	let quits = 0;
	const element = (c: number, r: number) => <Dashboard store={store} commands={commands} {...(executions ? { executions } : {})} size={{ columns: c, rows: r }} onQuit={() => quits++} />;
	const instance = render(element(columns, rows));
	return {
		...instance,
		store,
		commands,
		quits: () => quits,
		resize: (c: number, r: number) => instance.rerender(element(c, r)),
		frame: () => instance.lastFrame() ?? '',
		/** lines of the last frame */
		lines: () => (instance.lastFrame() ?? '').split('\n'),
		async press(...sequence: string[]) {
			for (const key of sequence) {
				instance.stdin.write(key);
				// an escape sequence needs a moment to be told apart from a lone Esc
				await sleep(key === keys.escape ? 60 : 15);
			}
		},
	};
}

/** Waits until `predicate` holds for the last frame (or fails with that frame). */
export async function waitForFrame(lastFrame: () => string | undefined, predicate: (frame: string) => boolean, timeoutMs = 2000): Promise<string> {
	const started = Date.now();
	for (;;) {
		const frame = lastFrame() ?? '';
		if (predicate(frame)) return frame;
		if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for the frame; last frame:\n${frame}`);
		await sleep(10);
	}
}

/** Input handlers attach in an effect: wait until the app listens before typing. */
export async function waitForInputReady(): Promise<void> {
	await sleep(30);
}
