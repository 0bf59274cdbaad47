// The seam between the engine/supervisor code and the dashboard: the UI and the store depend on this
// interface only. RealBackend implements it with the Docker API, the supervisor, the logs module and
// the stack's lifecycle; FixtureBackend with canned data (component tests, bench/dashboard-frame.ts).
import type { DashboardSink } from '../store/DashboardStore.js';
import type { ExecutionsBackend } from './executionActions.js';

export interface ActionOptions {
	/** progress lines (image build steps, readiness waits) shown in the row and the status line */
	onProgress?: (text: string) => void;
}

/** A shell started for the dashboard; `attach` is called only while the UI is suspended. */
export interface ShellHandle {
	/**
	 * Takes the real terminal, writes `typed` to the shell first; resolves once the shell's output ended
	 * and the terminal is given back, with the exit code to come (the dashboard redraws without waiting for it)
	 */
	attach(typed: string): Promise<{ exitCode: Promise<number> }>;
	/** the user cancelled before attaching */
	close(): void;
}

export interface DashboardBackend {
	/**
	 * Starts feeding the sink (service states, stats samples, log lines, engine reachability) and
	 * returns a function that stops every stream it opened.
	 */
	start(sink: DashboardSink): () => void;
	/** The same lifecycle code as `stigmer server start|stop|restart SERVICE`; rejects with a message a user can act on. */
	startService(name: string, options?: ActionOptions): Promise<void>;
	stopService(name: string, options?: ActionOptions): Promise<void>;
	restartService(name: string, options?: ActionOptions): Promise<void>;
	/**
	 * An interactive shell in the container (bash, else sh; in /workspace; as the container's user),
	 * started but not yet attached: the UI keeps the terminal until it calls `attach`.
	 */
	openShell(name: string): Promise<ShellHandle>;
	/** the agent-runner's executions (the executions view); start() follows them into the sink */
	readonly executions?: ExecutionsBackend;
}
