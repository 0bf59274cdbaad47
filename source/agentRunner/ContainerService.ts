// Owns the agent-runner container: the settings of docs/contract.md turned into an engine create request,
// finding it by labels, reusing it when its configuration hash matches, recreating it otherwise,
// stopping, removing, and reading its state as a status row.
import { chownSync, existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { networkInterfaces } from 'node:os';
import type { AgentRunnerConfig } from '../config/types.js';
import {
	agentRunnerDefaults,
	agentRunnerService,
	containerEnv,
	containerHttpPort,
	containerPaths,
	containerSecurity,
	imageSourceLabel,
	imageUser,
	labels,
	serviceLabelSelector,
	serviceUser,
} from '../contract.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import type { ContainerNetwork } from './network.js';
import { remoteMounts } from './volumes.js';
import type { ServiceHealth, ServiceState, ServiceStatus } from '../serviceStatus.js';
import { packageVersion } from '../version.js';
import { compareApiVersions, type DockerApi, engineStatus, orNull } from '../engine/DockerApi.js';
import { unqualifiedImage } from '../engine/podmanNames.js';

// node:crypto required where a plan is hashed: an ES import reads every export (webcrypto too), and `server status` hashes nothing
const require = createRequire(import.meta.url);

export interface ContainerInspect {
	Id: string;
	Name: string;
	Created: string;
	RestartCount: number;
	Image: string;
	Config: { Image: string; Labels: Record<string, string> | null; Tty: boolean; Env: string[] | null };
	State: {
		Status: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
		Running: boolean;
		Restarting: boolean;
		OOMKilled: boolean;
		ExitCode: number;
		Error: string;
		StartedAt: string;
		FinishedAt: string;
		Pid: number;
		Health?: { Status: 'starting' | 'healthy' | 'unhealthy' | 'none'; Log?: Array<{ Output: string; ExitCode: number }> };
	};
	HostConfig: { NetworkMode: string; Memory: number; NanoCpus: number };
}

export interface ContainerPlan {
	name: string;
	image: string;
	imageId: string;
	hash: string;
	/** the source hash of the image (its ai.stigmer.image-source label), null for an image stigmer did not build */
	imageSource: string | null;
	endpoint: string;
	network: ContainerNetwork;
	body: Record<string, unknown>;
	/** host paths the container user must be able to use (root invocations only) */
	ownedPaths: string[];
}

export interface PlanOptions {
	/**
	 * A remote engine (engine/locality.ts): nothing of this machine's file system or loopback is used. The
	 * workspace and data live in the home's named volumes, the secrets in an anonymous volume filled by
	 * `deliverSecrets` before the container starts, the API is not published (the supervisor's API
	 * forward reaches it through the engine), and the service runs as the image's user.
	 */
	remote?: boolean;
	/** the API token (remote: its digest is part of the configuration hash, so a new token recreates the container) */
	apiToken?: string;
	/**
	 * The engine honours HealthConfig.StartInterval (Docker 25+, API 1.44+): the image's check then runs
	 * every `startInterval` until the first success instead of waiting its 30 s interval. Podman and
	 * older Docker ignore the field; there stigmer's own /readyz probe answers meanwhile (healthFallback.ts).
	 */
	startInterval?: boolean;
	/** the image's source hash (buildContext.ts), kept as a label so a later start can say what it replaces */
	imageSource?: string | null;
}

/** The health check's first answers: every 0.5 s for up to 60 s after the start, then the image's 30 s. */
export const healthStart = { periodNs: 60e9, intervalNs: 0.5e9 };

/** True when the engine runs a HEALTHCHECK's start interval: Docker at API 1.44 or later (not Podman). */
export function engineHasStartInterval(apiVersion: string | null, podman: boolean): boolean {
	return !podman && apiVersion !== null && compareApiVersions(apiVersion, '1.44') >= 0;
}

/** Each execution's memory budget: agentRunner.sandbox.memoryBudget, else a fraction of the container's limit. */
export function sandboxMemoryBudget(config: AgentRunnerConfig): number {
	return config.sandbox.memoryBudget ?? Math.floor(config.memory * agentRunnerDefaults.sandbox.memoryBudgetFraction);
}

/** This machine's interface addresses (loopback included: on the host's network it is the host's). */
export function hostAddresses(): string[] {
	return [...new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address.split('%')[0]!)))].sort();
}

export function planContainer(home: StigmerHome, config: AgentRunnerConfig, imageId: string, network: ContainerNetwork, options: PlanOptions = {}): ContainerPlan {
	const remote = options.remote ?? false;
	const port = config.port;
	const env: Record<string, string> = {
		HOME: '/tmp',
		...config.env,
		[containerEnv.httpHost]: '0.0.0.0',
		[containerEnv.httpPort]: String(containerHttpPort),
		[containerEnv.workspace]: containerPaths.workspace,
		[containerEnv.data]: containerPaths.data,
		[containerEnv.apiTokenFile]: containerPaths.apiToken,
		[containerEnv.llmProvider]: config.llm.provider,
		[containerEnv.llmBaseUrl]: network.llmUrl,
		[containerEnv.llmModel]: config.llm.model,
		[containerEnv.maxConcurrency]: String(config.maxConcurrency),
		// in the configuration hash with the rest of the body: a change of policy recreates the container
		[containerEnv.sandboxNetwork]: config.sandbox.network,
		// this machine's addresses, which commands under `internet` must not reach (a remote engine's host's: unknown)
		...(config.sandbox.agentsMayWiden ? { [containerEnv.sandboxAgentsMayWiden]: '1' } : {}),
		...(config.sandbox.network === 'internet' && !remote ? { [containerEnv.sandboxHostAddresses]: hostAddresses().join(',') } : {}),
		...(network.viaForward ? { [containerEnv.llmViaForward]: '1' } : {}),
		[containerEnv.sandboxDiskBudgetBytes]: String(config.sandbox.diskBudget),
		[containerEnv.sandboxMemoryBudgetBytes]: String(sandboxMemoryBudget(config)),
	};
	const binds = remote ? [] : [`${home.workspaceDir}:${containerPaths.workspace}`, `${home.agentRunnerDataDir}:${containerPaths.data}`, `${home.apiTokenFile}:${containerPaths.apiToken}:ro`];
	const ownedPaths = remote ? [] : [home.workspaceDir, home.agentRunnerDataDir, home.apiTokenFile];
	if (config.llm.apiKeyFile) {
		env[containerEnv.llmApiKeyFile] = containerPaths.llmApiKey;
		if (!remote) {
			binds.push(`${config.llm.apiKeyFile}:${containerPaths.llmApiKey}:ro`);
			ownedPaths.push(config.llm.apiKeyFile);
		}
	}
	// The sandbox launcher starts as root with three capabilities and runs the service as the invoking
	// user on Linux (workspace files are theirs), as the image's user when that is root (stigmer hands
	// it the mounted paths) or when the engine is remote (the volumes are filled as that user); each
	// execution's commands get their own uid (docs/security.md).
	const service = remote ? { uid: imageUser.uid, gid: imageUser.gid } : serviceUser();
	env[containerEnv.serviceUid] = String(service.uid);
	env[containerEnv.serviceGid] = String(service.gid);
	const hostConfig: Record<string, unknown> = {
		...(remote ? { Mounts: remoteMounts(home) } : { Binds: binds }),
		// its own network namespace; the API is published on the host's loopback only (on a remote
		// engine not at all: the supervisor's API forward reaches it through the engine)
		NetworkMode: network.networkMode,
		...(remote ? {} : { PortBindings: { [`${containerHttpPort}/tcp`]: [{ HostIp: '127.0.0.1', HostPort: String(port) }] } }),
		ExtraHosts: network.extraHosts,
		Init: true,
		CapDrop: ['ALL'],
		CapAdd: [...containerSecurity.capAdd],
		SecurityOpt: ['no-new-privileges:true'],
		ReadonlyRootfs: true,
		Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=256m' },
		Memory: config.memory,
		MemorySwap: config.memory,
		NanoCpus: Math.round(config.cpus * 1e9),
		PidsLimit: 512,
		RestartPolicy: { Name: 'on-failure', MaximumRetryCount: 5 },
		LogConfig: { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } },
	};
	const body: Record<string, unknown> = {
		Image: config.image,
		Env: Object.entries(env)
			.sort(([a], [b]) => a.localeCompare(b))
			.map(([k, v]) => `${k}=${v}`),
		User: containerSecurity.user,
		WorkingDir: containerPaths.workspace,
		ExposedPorts: { [`${containerHttpPort}/tcp`]: {} },
		StopTimeout: 10,
		HostConfig: hostConfig,
		// the image's test, interval, timeout and retries stay (the engine merges a HealthConfig without a test)
		...(options.startInterval ? { Healthcheck: { StartPeriod: healthStart.periodNs, StartInterval: healthStart.intervalNs } } : {}),
	};
	const { createHash }: typeof import('node:crypto') = require('node:crypto');
	// remote: the secrets are copied in at creation, so a new token (or LLM key) must make a new container
	const secrets = remote
		? createHash('sha256')
				.update(JSON.stringify([options.apiToken ?? '', config.llm.apiKeyFile ? readFileSync(config.llm.apiKeyFile, 'utf8') : '']))
				.digest('hex')
		: undefined;
	const hash = createHash('sha256').update(JSON.stringify({ imageId, body, secrets })).digest('hex').slice(0, 16);
	body.Labels = {
		[labels.managed]: 'true',
		[labels.service]: agentRunnerService,
		[labels.home]: home.hash,
		[labels.configHash]: hash,
		[labels.version]: packageVersion,
		...(options.imageSource ? { [imageSourceLabel]: options.imageSource } : {}),
	};
	return { name: home.containerName, image: config.image, imageId, hash, imageSource: options.imageSource ?? null, endpoint: `http://127.0.0.1:${port}`, network, body, ownedPaths };
}

/** Root invocations: the image's user gets the mounted paths; nobody else gains access. */
export function handOverMountedPaths(plan: ContainerPlan): void {
	if ((process.getuid?.() ?? 0) !== 0 || process.platform !== 'linux') return;
	for (const p of plan.ownedPaths) {
		if (existsSync(p)) chownSync(p, imageUser.uid, imageUser.gid);
	}
}

export function labelFilter(home: StigmerHome): string {
	return JSON.stringify({ label: serviceLabelSelector(home.hash, agentRunnerService) });
}

/** All agent-runner containers of this home (normally one). */
export async function findContainers(api: DockerApi, home: StigmerHome): Promise<Array<{ Id: string; Names: string[]; State: string; Labels: Record<string, string> }>> {
	return api.getJson<Array<{ Id: string; Names: string[]; State: string; Labels: Record<string, string> }>>('/containers/json', { all: true, filters: labelFilter(home) });
}

export async function inspectContainer(api: DockerApi, id: string): Promise<ContainerInspect | null> {
	return orNull(api.getJson<ContainerInspect>(`/containers/${encodeURIComponent(id)}/json`));
}

/** The home's container, found by labels, else by its name (a container made by an older stigmer). */
export async function currentContainer(api: DockerApi, home: StigmerHome): Promise<ContainerInspect | null> {
	const found = await findContainers(api, home);
	const running = found.find((c) => c.State === 'running') ?? found[0];
	if (running) return inspectContainer(api, running.Id);
	return null;
}

export async function stopContainer(api: DockerApi, id: string, timeoutSeconds: number): Promise<void> {
	try {
		await api.docker.getContainer(id).stop({ t: timeoutSeconds, abortSignal: AbortSignal.timeout((timeoutSeconds + 30) * 1000) });
	} catch (error) {
		const code = engineStatus(error);
		if (code === 304 || code === 404) return; // already stopped, or gone
		throw error;
	}
}

export async function removeContainer(api: DockerApi, id: string): Promise<void> {
	try {
		await api.docker.getContainer(id).remove({ force: true, v: true });
	} catch (error) {
		const code = engineStatus(error);
		if (code === 404 || code === 409) return; // gone, or already being removed
		throw error;
	}
}

export async function createContainer(api: DockerApi, plan: ContainerPlan): Promise<string> {
	const created = await api.docker.createContainer({ name: plan.name, ...plan.body });
	return created.id;
}

export async function startContainer(api: DockerApi, id: string): Promise<void> {
	try {
		await api.docker.getContainer(id).start();
	} catch (error) {
		if (engineStatus(error) !== 304) throw error; // 304: already started
	}
}

function containerState(inspect: ContainerInspect): ServiceState {
	switch (inspect.State.Status) {
		case 'running':
			return 'running';
		case 'restarting':
			return 'restarting';
		case 'created':
			return 'stopped';
		case 'paused':
			return 'stopped';
		case 'dead':
			return 'failed';
		default:
			return inspect.State.ExitCode === 0 ? 'stopped' : 'exited';
	}
}

export function containerStatus(inspect: ContainerInspect | null, endpoint: string, image: string): ServiceStatus {
	if (!inspect) {
		return { name: agentRunnerService, kind: 'container', state: 'stopped', health: null, image, endpoint, startedAt: null, restarts: 0, exitCode: null, oomKilled: false };
	}
	const running = inspect.State.Running;
	const health = inspect.State.Health?.Status;
	const state = containerState(inspect);
	return {
		name: agentRunnerService,
		kind: 'container',
		state,
		health: running && health && health !== 'none' ? (health as ServiceHealth) : null,
		id: inspect.Id,
		image: unqualifiedImage(inspect.Config.Image),
		endpoint,
		startedAt: running || inspect.State.Restarting ? inspect.State.StartedAt : null,
		restarts: inspect.RestartCount,
		exitCode: running ? null : state === 'stopped' && inspect.State.Status === 'created' ? null : inspect.State.ExitCode,
		oomKilled: inspect.State.OOMKilled,
		...(inspect.State.Error ? { message: inspect.State.Error } : {}),
	};
}
