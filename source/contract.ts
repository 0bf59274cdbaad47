// The names that the CLI, the supervisor, the dashboard, docker/compose.yaml and the agent-runner
// service all depend on. Everything that spells a container name, a label, an environment variable
// or a state-file name imports it from here (upstream's bugs came from two spellings of one fact).
import { createRequire } from 'node:module';

/** Name of the service that runs as a container. */
export const agentRunnerService = 'agent-runner';

/**
 * Repository of stigmer's own agent-runner image. `STIGMER_DEV_IMAGE_REPOSITORY` overrides it for
 * development: two checkouts testing different runner code on one engine then never overwrite each
 * other's image (CONTRIBUTING.md).
 */
export const imageRepository = process.env.STIGMER_DEV_IMAGE_REPOSITORY || 'stigmer/agent-runner';
/**
 * The tag of stigmer's own image: the version and the first 12 hex digits of the hash of the sources it is
 * built from (buildContext.ts), so a changed runner under one version is a different image.
 */
export const imageTag = (version: string, sourceHash: string) => `${imageRepository}:${version}-${sourceHash.slice(0, 12)}`;
export const baseImage = 'debian:trixie-slim';

/**
 * The defaults of the agent-runner's settings: config.yaml's `agentRunner` keys (loadConfig.ts) and the
 * container environment (containerEnv). docker/Dockerfile (ENV), docker/compose.yaml,
 * agent-runner/stigmer_agent_runner/config.py and docs/config.md repeat them for their own
 * readers; test/unit/defaults.test.ts fails when one of those copies drifts from these.
 */
export const agentRunnerDefaults = {
	/** the API's port: on the host's loopback (agentRunner.port), and inside the container (STIGMER_HTTP_PORT) */
	port: 7480,
	/** the address the API binds in the container (STIGMER_HTTP_HOST): always this, the container has a network of its own */
	httpHost: '0.0.0.0',
	memory: '1g',
	cpus: 2,
	maxConcurrency: 4,
	/** config.yaml's `agentRunner.sandbox`: what an execution's commands may do and use (docs/security.md) */
	sandbox: {
		/** STIGMER_SANDBOX_NETWORK: `none`, no socket but unix ones (agent-runner/stigmer_agent_runner/netpolicy.py) */
		network: 'none' as const,
		/** STIGMER_SANDBOX_AGENTS_MAY_WIDEN: an agent file's `network` may only narrow the runner's policy */
		agentsMayWiden: false,
		diskBudget: '1g',
		/** without agentRunner.sandbox.memoryBudget: this fraction of agentRunner.memory */
		memoryBudgetFraction: 0.5,
	},
	llm: {
		provider: 'openai',
		model: 'qwen2.5-coder:7b',
		/** as seen from the host (agentRunner.llm.baseUrl) */
		baseUrl: 'http://127.0.0.1:11434/v1',
		/** as seen from a container on a bridge network (the image's STIGMER_LLM_BASE_URL) */
		containerBaseUrl: 'http://host.docker.internal:11434/v1',
	},
} as const;

/**
 * Defaults of the runner's tuning variables (containerTuningEnv, key for key), which stigmer does not set.
 * The runner's config.py and sandbox_launcher.py hold the same numbers; test/unit/defaults.test.ts compares each.
 */
export const containerTuningDefaults = {
	shutdownGraceSeconds: 8,
	maxUploadBytes: 50 * 1024 * 1024,
	maxUploadsInflightBytes: 512 * 1024 * 1024,
	commandTimeoutSeconds: 60,
	toolOutputLimit: 16 * 1024,
	llmTimeoutSeconds: 300,
	llmMaxRetries: 4,
	sandboxMaxProcesses: 64,
	sandboxMaxMemoryBytes: 512 * 1024 * 1024,
	sandboxMaxFileBytes: 1024 * 1024 * 1024,
	sandboxUidBase: 61000,
} as const;

export const containerHttpPort = agentRunnerDefaults.port;

/** Labels put on everything stigmer creates in the engine. */
export const labels = {
	managed: 'ai.stigmer.managed',
	service: 'ai.stigmer.service',
	home: 'ai.stigmer.home',
	configHash: 'ai.stigmer.config-hash',
	version: 'ai.stigmer.version',
	/** on the volumes of a remote engine: what the volume holds (`workspace`, `data`, `secrets`) */
	volume: 'ai.stigmer.volume',
} as const;

/** Label selector of one service's containers in one home (engine filters `label=`). */
export function serviceLabelSelector(homeHashValue: string, service: string): string[] {
	return [`${labels.managed}=true`, `${labels.service}=${service}`, `${labels.home}=${homeHashValue}`];
}

/** Label selector of everything of one home. */
export function homeLabelSelector(homeHashValue: string): string[] {
	return [`${labels.managed}=true`, `${labels.home}=${homeHashValue}`];
}

/** Image label holding the package version the image was built for. */
export const imageVersionLabel = 'ai.stigmer.version';
/** Image label (and container label) holding the full source hash the image was built from (buildContext.ts). */
export const imageSourceLabel = 'ai.stigmer.image-source';
/** Image label holding the id of the base image it was built on. */
export const imageBaseLabel = 'ai.stigmer.base-image';

/** Environment of the agent-runner container (docs/contract.md, "Container environment"). */
export const containerEnv = {
	httpHost: 'STIGMER_HTTP_HOST',
	httpPort: 'STIGMER_HTTP_PORT',
	workspace: 'STIGMER_WORKSPACE',
	data: 'STIGMER_DATA',
	apiTokenFile: 'STIGMER_API_TOKEN_FILE',
	llmProvider: 'STIGMER_LLM_PROVIDER',
	llmBaseUrl: 'STIGMER_LLM_BASE_URL',
	llmModel: 'STIGMER_LLM_MODEL',
	llmApiKeyFile: 'STIGMER_LLM_API_KEY_FILE',
	/** `1` when llmBaseUrl is stigmer's forward (supervisor/LlmForward.ts): its failure then names the forward and its fix */
	llmViaForward: 'STIGMER_LLM_VIA_FORWARD',
	maxConcurrency: 'STIGMER_MAX_CONCURRENCY',
	/** uid:gid the HTTP service runs as (the sandbox launcher stays root and drops it to these) */
	serviceUid: 'STIGMER_SERVICE_UID',
	serviceGid: 'STIGMER_SERVICE_GID',
	/** the network policy of the executions' commands (agentRunner.sandbox.network) */
	sandboxNetwork: 'STIGMER_SANDBOX_NETWORK',
	/** this machine's addresses, refused to commands under policy internet (local engine only) */
	sandboxHostAddresses: 'STIGMER_SANDBOX_HOST_ADDRESSES',
	/** `1` when agentRunner.sandbox.agentsMayWiden: an agent's network policy may be wider than the runner's */
	sandboxAgentsMayWiden: 'STIGMER_SANDBOX_AGENTS_MAY_WIDEN',
	/** agentRunner.sandbox.diskBudget and memoryBudget, in bytes (the launcher's budgets.py) */
	sandboxDiskBudgetBytes: 'STIGMER_SANDBOX_DISK_BUDGET_BYTES',
	sandboxMemoryBudgetBytes: 'STIGMER_SANDBOX_MEMORY_BUDGET_BYTES',
} as const;

/** agentRunner.sandbox.network (read and checked by source/config/networkPolicy.ts and netrules.py). */
/** One policy as one string, STIGMER_SANDBOX_NETWORK's spelling: `none`, `internet`, `allow:ENTRY,ENTRY` */
export type SandboxNetworkPolicy = 'none' | 'internet' | `allow:${string}`;

/**
 * Tuning variables the agent-runner also reads (not set by stigmer; users may set them through
 * agentRunner.env): shutdown grace, upload limits (one request; all requests being received at once),
 * command timeout, tool output cap, LLM timeout and retries.
 */
export const containerTuningEnv = {
	shutdownGraceSeconds: 'STIGMER_SHUTDOWN_GRACE_SECONDS',
	maxUploadBytes: 'STIGMER_MAX_UPLOAD_BYTES',
	maxUploadsInflightBytes: 'STIGMER_MAX_UPLOADS_INFLIGHT_BYTES',
	commandTimeoutSeconds: 'STIGMER_COMMAND_TIMEOUT_SECONDS',
	toolOutputLimit: 'STIGMER_TOOL_OUTPUT_LIMIT',
	llmTimeoutSeconds: 'STIGMER_LLM_TIMEOUT_SECONDS',
	llmMaxRetries: 'STIGMER_LLM_MAX_RETRIES',
	sandboxMaxProcesses: 'STIGMER_SANDBOX_MAX_PROCESSES',
	sandboxMaxMemoryBytes: 'STIGMER_SANDBOX_MAX_MEMORY_BYTES',
	sandboxMaxFileBytes: 'STIGMER_SANDBOX_MAX_FILE_BYTES',
	sandboxUidBase: 'STIGMER_SANDBOX_UID_BASE',
} as const;

/** Paths inside the container. */
export const containerPaths = {
	workspace: '/workspace',
	data: '/data',
	secrets: '/run/secrets',
	apiToken: '/run/secrets/api-token',
	llmApiKey: '/run/secrets/llm-api-key',
	/** the API bridge a remote engine's connections are exec'd into (agent-runner/stigmer_agent_runner/api_bridge.py) */
	apiBridge: '/opt/stigmer/stigmer_agent_runner/api_bridge.py',
} as const;

/** uid:gid of the non-root user baked into the image (docker/Dockerfile creates it). */
export const imageUser = { uid: 10001, gid: 10001, name: 'stigmer' } as const;

/**
 * uid:gid the API bridge of a remote engine runs as in the container (`nobody`): it only connects to the
 * runner's port on the container's loopback, so it needs none of the service's files or groups.
 */
export const apiBridgeUser = '65534:65534';

/**
 * The container's security settings (docs/security.md): its main process, the sandbox launcher, runs
 * as root with these capabilities only (all others dropped, no-new-privileges); the HTTP service runs
 * as `serviceUser()` with none, and each execution's commands under their own uid.
 */
export const containerSecurity = {
	user: '0:0',
	capAdd: ['CHOWN', 'SETUID', 'SETGID'],
} as const;

/**
 * The uid:gid the service runs as: the invoking user's on Linux (workspace files are theirs), the
 * image's user when that is root or off Linux.
 */
export function serviceUser(): { uid: number; gid: number } {
	const uid = process.getuid?.() ?? 0;
	if (process.platform !== 'linux' || uid === 0) return { uid: imageUser.uid, gid: imageUser.gid };
	return { uid, gid: process.getgid?.() ?? uid };
}

/** Environment variables read by the CLI itself. */
export const cliEnv = {
	home: 'STIGMER_HOME',
	noColor: 'NO_COLOR',
	debug: 'STIGMER_DEBUG',
} as const;

/**
 * Set by the supervisor on every native it spawns: which home and service the process belongs to. When
 * the state file is lost (a crash mid-write, a supervisor killed), the natives are found again by these,
 * read from the processes themselves (/proc/PID/environ).
 */
export const nativeMarkerEnv = {
	home: 'STIGMER_NATIVE_HOME',
	service: 'STIGMER_NATIVE_SERVICE',
} as const;

/**
 * Short, stable hash of a home directory's absolute path: labels and name suffixes. node:crypto is
 * taken when a hash is made: every command imports this module, and loading crypto costs `--help` ≈6 ms.
 */
export function homeHash(homeDir: string): string {
	const { createHash } = createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto');
	return createHash('sha256').update(homeDir).digest('hex').slice(0, 12);
}

/**
 * Container name: `stigmer-agent-runner` for the default home, with the home's hash as a suffix
 * otherwise, so two homes on one machine never share a container.
 */
export function containerName(homeDir: string, isDefaultHome: boolean): string {
	return isDefaultHome ? 'stigmer-agent-runner' : `stigmer-agent-runner-${homeHash(homeDir)}`;
}

/**
 * The home's own bridge network on a local Linux engine: `stigmer` for the default home, with the home's
 * hash as a suffix otherwise (labelled like the container; removed with it).
 */
export function networkName(homeDir: string, isDefaultHome: boolean): string {
	return isDefaultHome ? 'stigmer' : `stigmer-${homeHash(homeDir)}`;
}

/** What a remote engine keeps in volumes instead of the home's directories (docs/architecture.md, "Remote engines"). */
export const remoteVolumes = ['workspace', 'data'] as const;
export type RemoteVolume = (typeof remoteVolumes)[number];

/**
 * A named volume of a remote engine, where the home's directories do not exist: `stigmer-workspace` and
 * `stigmer-data` for the default home, with the home's hash otherwise (`stigmer-<hash>-workspace`), so two
 * homes never share one. Labelled like the container; they outlive `server stop` (`--volumes` removes them).
 */
export function volumeName(homeDir: string, isDefaultHome: boolean, volume: RemoteVolume): string {
	return isDefaultHome ? `stigmer-${volume}` : `stigmer-${homeHash(homeDir)}-${volume}`;
}

/** Native log line format written by the supervisor: `<RFC 3339 nano> <stdout|stderr> <line>`. */
export const nativeLogFile = {
	/** bytes after which `<name>.log` rotates to `<name>.log.1` (…`.3`). */
	rotateBytes: 10 * 1024 * 1024,
	keep: 3,
} as const;

/**
 * Seconds `server start`/`restart` wait for readiness, and `server stop` waits after SIGTERM /
 * `docker stop` before killing (also the supervisor's default and compose's stop_grace_period; the
 * runner's STIGMER_SHUTDOWN_GRACE_SECONDS stays below it). --timeout overrides both.
 */
export const defaultTimeouts = { startSeconds: 120, stopSeconds: 10 } as const;

export const exitCodes = {
	ok: 0,
	failure: 1,
	usage: 2,
	engineUnreachable: 3,
	timeout: 4,
	interrupted: 130,
} as const;

/** An execution's `status` in the runner's API (docs/http-api.md), and those it never leaves. */
const executionStatuses = ['queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted'] as const;
export type ExecutionStatus = (typeof executionStatuses)[number];
const terminalStatuses: ReadonlySet<string> = new Set<ExecutionStatus>(['succeeded', 'failed', 'cancelled', 'interrupted']);

export function isTerminal(status: string | undefined | null): boolean {
	return status != null && terminalStatuses.has(status);
}
