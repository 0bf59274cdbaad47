// The dashboard's state: what the services are doing (fed by the backend) and what the user is
// looking at (fed by keys). Log lines themselves live in LogBook rings beside it (see DashboardStore);
// the state only carries `logsVersion`, which changes whenever they do.
import type { ExecutionSummary, RunnerProblem } from '../api/AgentRunnerClient.js';
import type { ServiceStatus, StackStatus } from '../serviceStatus.js';

/** One measurement of a service's resources (containers: a stats frame; natives: the process table). */
export interface ResourceSample {
	timeMs: number;
	/** percent of ONE core, like docker stats (200 = two cores busy); NaN: no figure yet */
	cpuPercent: number;
	memoryBytes: number;
	/** the container's memory limit (or the host's memory when unlimited); null for natives */
	memoryLimitBytes: number | null;
	/** cumulative bytes; null for natives */
	networkRxBytes: number | null;
	networkTxBytes: number | null;
	pids: number | null;
}

/** Seconds of CPU/memory history kept for the sparklines. */
export const historySeconds = 60;
/**
 * One history cell (one sparkline character) per this many ms of the wall clock: 12 cells for the 60 s
 * the sparklines' titles promise. A cell holds its samples' peak CPU and last memory, so a sparkline
 * moves on every 5 s, not with every sample (each move costs an idle dashboard a frame).
 */
export const historyCellMs = 5000;
export const historyCells = historySeconds / (historyCellMs / 1000);

export interface ServiceResources {
	latest: ResourceSample;
	/** one value per history cell, oldest first */
	cpuHistory: number[];
	memoryHistory: number[];
	/** the wall-clock cell (timeMs / historyCellMs) of each history's last value */
	cpuCell?: number;
	memoryCell?: number;
}

export type ServiceActionKind = 'start' | 'stop' | 'restart';

/**
 * The terminal being handed to a shell in a container, from the `e` key until the shell ends. While it
 * is set no key is a dashboard key: before the shell has the terminal, keys are kept in `typed` (in
 * order, as the bytes a terminal sends) and written to the shell first; Esc or Ctrl-C cancel.
 */
export interface TerminalHandover {
	service: string;
	/** waiting: for the service to be running (`waitingFor` says on what); opening: creating the exec; attached: the shell has the terminal */
	phase: 'waiting' | 'opening' | 'attached';
	waitingFor: string | null;
	typed: string;
}

export interface ActionInProgress {
	kind: ServiceActionKind;
	/** progress text (e.g. image build steps) */
	progress?: string;
}

export interface StatusMessage {
	kind: 'info' | 'error';
	text: string;
}

export interface EngineView {
	/** null until the first answer */
	reachable: boolean | null;
	endpoint?: string;
	/** the engine does not share this machine's files and loopback (engine/locality.ts) */
	remote?: boolean;
	version?: string | null;
	error?: string;
}

export interface LogFilter {
	/** what the user typed: a substring, or /regex/flags */
	text: string;
	/** the prompt is open and keys edit `text` */
	editing: boolean;
}

/** The table on top: the services, or the agent-runner's executions. */
export type TableView = 'services' | 'executions';

/** The all-executions stream: connecting, live, or down for a reason the view explains. */
export interface RunnerFeedView {
	state: 'connecting' | 'live' | 'down';
	problem?: RunnerProblem;
	message?: string;
}

/** At most this many executions are kept (newest first); the table draws only the rows that fit. */
export const maxExecutions = 1000;

export interface ExecutionDetail {
	id: string;
	/** the event stream ended (terminal status) or failed (`error`) */
	ended: boolean;
	error?: string;
}

export interface ExecutionsView {
	/** newest first */
	rows: ExecutionSummary[];
	selectedId: string | null;
	runner: RunnerFeedView;
	/** the execution whose events fill the log pane, or null for the logs */
	detail: ExecutionDetail | null;
	/** an execution waiting for the user to confirm its cancellation */
	confirmCancel: string | null;
}

export interface DashboardState {
	engine: EngineView;
	/** the agent-runner's LLM forward (as `server status` shows it), null when it has none */
	llmForward: NonNullable<StackStatus['llmForward']> | null;
	services: ServiceStatus[];
	resources: Record<string, ServiceResources>;
	actions: Record<string, ActionInProgress>;
	status: StatusMessage | null;
	/** name of the selected service (stable when rows come and go) */
	selected: string | null;
	/** the user moved the selection: until then it stays on the first row, whichever source answers first */
	selectionChosen: boolean;
	logScope: 'all' | 'selected';
	/** follow the tail; when false the view is anchored at `anchorSeq` (the bottom line) */
	follow: boolean;
	anchorSeq: number | null;
	filter: LogFilter;
	timestamps: boolean;
	wrap: boolean;
	help: boolean;
	/** the terminal is being handed, or has been handed, to a shell: keys are the shell's, not the dashboard's */
	handover: TerminalHandover | null;
	logsVersion: number;
	view: TableView;
	executions: ExecutionsView;
	/** changes whenever the open execution's event lines do */
	executionLogVersion: number;
}

export const initialDashboardState: DashboardState = {
	engine: { reachable: null },
	llmForward: null,
	services: [],
	resources: {},
	actions: {},
	status: null,
	selected: null,
	selectionChosen: false,
	logScope: 'all',
	follow: true,
	anchorSeq: null,
	filter: { text: '', editing: false },
	timestamps: false,
	wrap: false,
	help: false,
	handover: null,
	logsVersion: 0,
	view: 'services',
	executions: { rows: [], selectedId: null, runner: { state: 'connecting' }, detail: null, confirmCancel: null },
	executionLogVersion: 0,
};
