// One row of `stigmer server status --json` (docs/contract.md). The dashboard's services table shows the same.
// Types (and the one "is active" predicate), in the shared layer: the container's row is built in agentRunner/, the natives' in stack/,
// and the store, the UI and the commands read them (stack/status.ts builds the supervisor's rows).

/** `unknown`: the container engine does not answer, so what the container does cannot be told. */
export type ServiceState = 'running' | 'starting' | 'restarting' | 'stopped' | 'exited' | 'failed' | 'not-installed' | 'unknown';
export type ServiceHealth = 'healthy' | 'unhealthy' | 'starting' | null;

export interface ServiceStatus {
	name: string;
	kind: 'container' | 'native';
	state: ServiceState;
	health?: ServiceHealth;
	/** container id (containers) */
	id?: string;
	/** process id (natives) */
	pid?: number;
	image?: string;
	endpoint?: string;
	/** RFC 3339 */
	startedAt?: string | null;
	restarts?: number;
	exitCode?: number | null;
	oomKilled?: boolean;
	/**
	 * RFC 3339: when the kernel's OOM killer ended the container's main process. Kept (in the home) after
	 * the restart policy started it again, until the user starts or restarts it (agentRunner/oomStatus.ts).
	 */
	oomKilledAt?: string;
	/** processes inside the container the OOM killer ended while it lived on: how many, the last when */
	oomKills?: { count: number; lastAt: string };
	/** why it is failed / not-installed, for humans */
	message?: string;
	/** agent-runner on a remote engine: the home's named volumes (workspace, data) that exist */
	volumes?: Array<{ name: string; holds: string }>;
	/** agent-runner: the source hash of its image, the one this stigmer needs, and whether they match */
	imageSource?: ImageSourceStatus;
}

/** `server status --json` and `doctor`: the running image's source hash, the one needed, and whether they match. */
export interface ImageSourceStatus {
	/** the source hash of the container's image (null: not a stigmer-built image, or no container) */
	hash: string | null;
	/** the source hash this stigmer needs (null: agentRunner.image names a user's image) */
	needed: string | null;
	/** null when there is nothing to compare */
	matches: boolean | null;
}

/** Running, or on its way up (starting, restarting): the one test of "is active" for containers and natives alike. */
export function isActive(state: string): boolean {
	return state === 'running' || state === 'starting' || state === 'restarting';
}

export interface EngineStatus {
	reachable: boolean;
	endpoint: string;
	version: string | null;
	error?: string;
}

export interface StackStatus {
	engine: EngineStatus;
	services: ServiceStatus[];
	/**
	 * Present when config.yaml is invalid: its first problem as `file:line: key: problem`. The rows then come
	 * from what runs (the supervisor's state, the engine's labels), not from the configuration.
	 */
	configError?: string;
	/** the native services supervisor; pid null when it is not running (it runs the natives and the LLM forward) */
	supervisor?: { pid: number | null };
	/**
	 * The agent-runner's path to an LLM on the host's loopback (supervisor/LlmForward.ts), when it has one:
	 * `forward`, `direct`, `pending` or `failed` as the supervisor reports it, `down` when the supervisor that
	 * ran it is gone (agents cannot reach the LLM until `stigmer server start`).
	 */
	llmForward?: { state: 'forward' | 'direct' | 'pending' | 'failed' | 'down'; listen: string; target: string; error?: string };
}
