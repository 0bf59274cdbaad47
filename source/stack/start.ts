// The one implementation of start, stop, restart and status, used by the CLI commands and the
// dashboard alike. Natives go through the supervisor, the container through ContainerService.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { ConfigError, defaultConfig, loadConfig } from '../config/loadConfig.js';
import type { StigmerConfig } from '../config/types.js';
import { agentRunnerService, defaultTimeouts, exitCodes, labels } from '../contract.js';
import {
	type ContainerInspect,
	type ContainerPlan,
	containerStatus,
	createContainer,
	currentContainer,
	deliverSecrets,
	engineHasStartInterval,
	ensureRemoteVolumes,
	findContainers,
	handOverMountedPaths,
	inspectContainer,
	listRemoteVolumes,
	planContainer,
	removeContainer,
	startContainer,
	stopContainer,
} from '../agentRunner/ContainerService.js';
import { DockerApi, EngineUnreachableError, engineMessage } from '../engine/DockerApi.js';
import { endpointUrl, resolveEndpoint } from '../engine/endpoint.js';
import { withHealthFallback } from '../agentRunner/healthFallback.js';
import { engineIsRemote } from '../engine/locality.js';
import type { BuildProgress } from '../agentRunner/ImageBuilder.js';
import { TimeoutError, UsageError, UserError, errorMessage } from '../errors.js';
import { writeFileAtomic } from '../home/atomicFile.js';
import { acquireHomeLock } from '../home/HomeLock.js';
import { clearOomRecord } from '../home/OomRecord.js';
import { fileSystemOf, formatBytes } from '../platform/fileSystem.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import { readLogs } from '../logs/readLogs.js';
import { ensureSupervisor, nativeState, request, shutdownSupervisor, supervisorLoss, supervisorPid } from '../supervisor/SupervisorClient.js';
import { probeHttp, probeTcp } from '../supervisor/readiness.js';
import { resolveExecutable } from '../supervisor/resolveExecutable.js';
import type { ServiceStatus, StackStatus } from '../serviceStatus.js';
import { llmForwardRow, nativeRow } from './statusRows.js';
import { refreshOomRecord, withOom } from '../agentRunner/oomStatus.js';
import { containerSource, ensureImage, imageSourceStatus, outdatedReason } from '../agentRunner/image.js';
import { openApiForward, prepareNetwork, releaseNetwork } from '../agentRunner/network.js';

export type StackEvent =
	| { service: string; phase: 'build'; progress: BuildProgress }
	| { service: string; phase: 'pull' | 'reuse' | 'create' | 'recreate' | 'start' | 'wait' | 'ready' | 'stop' | 'stopped' | 'not-installed' | 'restart' | 'volume-removed'; text?: string }
	/** start found the supervisor dead (it died while natives or the LLM forward ran): `text` says what was lost */
	| { service: 'supervisor'; phase: 'supervisor-lost'; text: string }
	/** stop with an invalid config.yaml: `text` is its first problem (file:line) */
	| { service: 'config'; phase: 'config-invalid'; text: string };

export interface StackOptions {
	/** config.yaml, when the caller has read it already (a file is read once per command) */
	config?: StigmerConfig;
	onEvent?: (event: StackEvent) => void;
	signal?: AbortSignal;
	/** an already connected engine client (the dashboard keeps one) */
	api?: DockerApi;
}

export interface StartOptions extends StackOptions {
	build?: boolean;
	/** seconds to wait for readiness (per run) */
	timeoutSeconds?: number;
	wait?: boolean;
	services?: string[];
}

export function serviceNames(config: StigmerConfig): string[] {
	return [...config.services.map((s) => s.name), agentRunnerService];
}

/** Validates SERVICE... arguments against the configuration (exit 2 naming the known ones). */
export function selectServices(config: StigmerConfig, wanted: string[] | undefined): string[] {
	const known = serviceNames(config);
	if (!wanted || wanted.length === 0) return known;
	for (const name of wanted) {
		if (!known.includes(name)) throw new UsageError(`unknown service "${name}"`, `known services: ${known.join(', ')}`);
	}
	return known.filter((name) => wanted.includes(name));
}

/** The bearer token of the agent-runner API, generated at first start (0600). */
export function ensureApiToken(home: StigmerHome): string {
	try {
		const token = readFileSync(home.apiTokenFile, 'utf8').trim();
		if (token) {
			if ((statSync(home.apiTokenFile).mode & 0o077) !== 0) chmodSync(home.apiTokenFile, 0o600);
			return token;
		}
	} catch (error) {
		if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new UserError(`cannot read ${home.apiTokenFile}: ${errorMessage(error)}`);
	}
	const token = randomBytes(32).toString('hex');
	writeFileAtomic(home.apiTokenFile, `${token}\n`, 0o600);
	return token;
}

async function connectEngine(options: StackOptions): Promise<DockerApi> {
	return options.api ?? DockerApi.connect();
}

function checkAborted(signal?: AbortSignal): void {
	if (signal?.aborted) throw new UserError('interrupted', exitCodes.interrupted);
}

/** The last lines a service printed (for "did not become ready" reports), through the one log source. */
export async function serviceLogTail(api: DockerApi | null, home: StigmerHome, service: string, lines: number): Promise<string> {
	const out: string[] = [];
	try {
		for await (const batch of readLogs({ api, home, services: [service], tail: lines })) for (const l of batch) out.push(l.line);
	} catch (error) {
		return `(logs unavailable: ${errorMessage(error)})`;
	}
	return out.join('\n');
}

/** Brings the selected services up in order (natives, then agent-runner) and waits until each is ready. */
export async function startStack(home: StigmerHome, options: StartOptions = {}): Promise<StackStatus> {
	home.ensureLayout();
	ensureRoom(home);
	const config = options.config ?? loadConfig(home);
	const selected = selectServices(config, options.services);
	const wantContainer = selected.includes(agentRunnerService);
	const natives = config.services.filter((s) => selected.includes(s.name));
	const timeoutSeconds = options.timeoutSeconds ?? defaultTimeouts.startSeconds;
	const wait = options.wait ?? true;
	const emit = options.onEvent ?? (() => {});
	const loss = supervisorLoss(home);
	if (loss) emit({ service: 'supervisor', phase: 'supervisor-lost', text: loss.replace(/ — run .*$/, '') });
	const apiToken = ensureApiToken(home);

	// The engine first: when it is unreachable nothing is started (exit 3).
	const api = wantContainer ? await connectEngine(options) : null;
	try {
		const remote = api ? engineIsRemote(api.endpoint) : false;
		const run: StartRun = { home, config, options, timeoutSeconds, wait, emit, remote, apiToken, startedNatives: [], startedContainer: null, forwardOpened: null, apiForwardOpened: null };
		const lock = await acquireHomeLock(home, { what: 'starting', signal: options.signal });
		try {
			const container = api ? await prepareContainer(api, run) : null;
			if (natives.length > 0) await startNatives(run, natives);
			checkAborted(options.signal);
			if (api && container) await bringUpContainer(api, run, container);
		} catch (error) {
			// Ctrl-C or a failure: undo what this start began, so nothing is left half-started.
			await run.forwardOpened?.catch(() => {}); // settled first, or it could open after the rollback
			await run.apiForwardOpened?.catch(() => {});
			if (options.signal?.aborted || !(error instanceof TimeoutError)) {
				await rollback(home, api, run.startedContainer, run.startedNatives).catch(() => {});
			}
			if (options.signal?.aborted) throw new UserError('interrupted: stopped what this start had begun', exitCodes.interrupted);
			throw error;
		} finally {
			lock.release();
		}
		return await stackStatus(home, { api: api ?? undefined, config });
	} finally {
		if (!options.api) api?.close();
	}
}

/** Below this much free space on the home's file system, start refuses: state and logs could not be written. */
const minimumFreeBytes = 1024 * 1024;

/** A full disk under the home is said as such before anything starts (stop still works there). */
function ensureRoom(home: StigmerHome): void {
	const fs = fileSystemOf(home.dir);
	if (fs.freeBytes === null || fs.freeBytes >= minimumFreeBytes) return;
	throw new UserError(
		`no space left on ${fs.mountPoint} (${formatBytes(fs.freeBytes)} free${fs.totalBytes ? ` of ${formatBytes(fs.totalBytes)}` : ''}): the stack's state and logs under ${home.dir} cannot be written`,
		1,
		`free some space there (\`stigmer doctor\` shows it; old logs in ${home.logsDir} can go), then start again; \`stigmer server stop\` and \`status\` work meanwhile`,
	);
}

/** One `startStack`: its settings, and what it has started so far (undone when it fails). */
interface StartRun {
	home: StigmerHome;
	config: StigmerConfig;
	options: StartOptions;
	timeoutSeconds: number;
	wait: boolean;
	emit: (event: StackEvent) => void;
	/** the engine is remote (engine/locality.ts): volumes, secrets copied in, the API through the supervisor */
	remote: boolean;
	apiToken: string;
	startedNatives: string[];
	startedContainer: string | null;
	/** the supervisor's LLM forward for the container, opening while the rest starts */
	forwardOpened: Promise<unknown> | null;
	/** remote engines: the supervisor's forward to the API, opening while the rest starts */
	apiForwardOpened: Promise<unknown> | null;
}

interface PreparedContainer {
	plan: ContainerPlan;
	/** the home's container before this start (reused when its configuration hash matches) */
	existing: ContainerInspect | null;
}

/** Before anything starts: the image (built when missing or stale), the container's plan, and a free port. */
async function prepareContainer(api: DockerApi, run: StartRun): Promise<PreparedContainer> {
	const { home, config, options } = run;
	// the image and the network (with the supervisor's LLM forward) are independent: side by side,
	// and both settled before anything else (a failure's rollback then sees all they made)
	// (and on a remote engine the home's volumes)
	const [image, network, volumes] = await Promise.allSettled([
		ensureImage(api, config, {
			build: options.build,
			signal: options.signal,
			onProgress: (progress) => options.onEvent?.({ service: agentRunnerService, phase: 'build', progress }),
			onPull: (text) => options.onEvent?.({ service: agentRunnerService, phase: 'pull', text }),
		}),
		prepareNetwork(api, home, config.agentRunner),
		run.remote ? ensureRemoteVolumes(api, home) : Promise.resolve([]),
	]);
	if (image.status === 'rejected') throw image.reason;
	if (network.status === 'rejected') throw network.reason;
	if (volumes.status === 'rejected') throw volumes.reason;
	run.forwardOpened = network.value.forward;
	checkAborted(options.signal);
	const startInterval = engineHasStartInterval(api.apiVersion, network.value.choice.podman ?? false);
	const plan = planContainer(home, config.agentRunner, image.value.id, network.value, { remote: run.remote, apiToken: run.apiToken, startInterval, imageSource: image.value.source });
	if (run.remote) {
		// the API's port on this machine is the supervisor's forward (it says when another program has it)
		const opening = openApiForward(api, home, config.agentRunner);
		opening.catch(() => {}); // awaited before the container is waited for
		run.apiForwardOpened = opening;
	}
	const existing = await currentContainer(api, home);
	// A running container of ours holds the port itself (it is reused, or replaced below); so may the API
	// forward of this home's remote-mode stack (the engine changed under it): closed, then looked at again.
	if (!run.remote && (await probeTcp(config.agentRunner.port)) && !(await closedOwnApiForward(home, config.agentRunner.port)) && !existing?.State.Running) {
		throw new UserError(
			`port ${config.agentRunner.port} on 127.0.0.1 is taken by another program`,
			1,
			`stop it (\`stigmer doctor\` shows which process holds it), or set agentRunner.port in ${home.configFile}`,
		);
	}
	return { plan, existing };
}

/** Whether the home's supervisor held `port` with an API forward, now closed (a stack that was remote). */
async function closedOwnApiForward(home: StigmerHome, port: number): Promise<boolean> {
	if (supervisorPid(home) === null) return false;
	const status = await request(home, { cmd: 'status' }, { timeoutMs: 5000 }).catch(() => null);
	if (!status?.ok || status.apiForward?.port !== port || status.apiForward.mode !== 'listening') return false;
	await request(home, { cmd: 'apiUnforward' }, { timeoutMs: 10_000 });
	return !(await probeTcp(port));
}

/** The native services, through the supervisor (started when needed), waiting for readiness when asked. */
async function startNatives(run: StartRun, natives: StigmerConfig['services']): Promise<void> {
	const { home, config, wait, timeoutSeconds, emit } = run;
	await ensureSupervisor(home);
	const before = new Map((await nativeState(home)).services.map((s) => [s.name, s.state]));
	const response = await request(home, { cmd: 'start', services: natives.map((s) => s.name), configs: config.services, wait, timeout: timeoutSeconds }, { timeoutMs: (timeoutSeconds + 30) * 1000 });
	for (const s of response.services ?? []) {
		if (s.state === 'not-installed') emit({ service: s.name, phase: 'not-installed', text: s.lastError });
		else if (before.get(s.name) !== 'running' && natives.some((n) => n.name === s.name)) run.startedNatives.push(s.name);
	}
	if (!response.ok) {
		const reason = response.error;
		if (response.timedOut) {
			throw new TimeoutError(`${response.service ?? 'a native service'} did not become ready within ${timeoutSeconds} s: ${reason}`, await nativeLogHint(home, response.service));
		}
		throw new UserError(`${response.service ?? 'a native service'} failed to start: ${reason}`, 1, await nativeLogHint(home, response.service));
	}
	for (const s of response.services) if (s.state === 'running') emit({ service: s.name, phase: 'ready' });
}

/** The agent-runner container: reused, started, or (re)created, stale ones removed; then ready. */
async function bringUpContainer(api: DockerApi, run: StartRun, { plan, existing }: PreparedContainer): Promise<void> {
	const { home, emit } = run;
	clearOomRecord(home); // the user started it: an earlier OOM kill is no longer news
	const all = await findContainers(api, home);
	let id: string | null = null;
	for (const c of all) {
		if (c.Labels[labels.configHash] === plan.hash && id === null && c.Id === existing?.Id) id = c.Id;
		else await removeContainer(api, c.Id); // stale: older version, changed config, or a duplicate
	}
	if (id === null) {
		const byName = await inspectContainer(api, plan.name);
		if (byName) await removeContainer(api, byName.Id); // a leftover without our labels
		const outdated = existing ? outdatedReason(containerSource(existing.Config.Labels), plan.imageSource) : null;
		emit({ service: agentRunnerService, phase: existing ? 'recreate' : 'create', ...(outdated ? { text: outdated } : {}) });
		handOverMountedPaths(plan);
		id = await createContainer(api, plan);
		run.startedContainer = id;
		// remote: the token goes into the created container's secrets volume (a new token is a new plan)
		if (run.remote) await deliverSecrets(api, id, run.config.agentRunner, run.apiToken);
		await startContainer(api, id);
	} else if (!existing!.State.Running) {
		emit({ service: agentRunnerService, phase: 'start' });
		handOverMountedPaths(plan);
		run.startedContainer = id;
		// remote: again (one request), in case a start interrupted before it left the volume without them
		if (run.remote) await deliverSecrets(api, id, run.config.agentRunner, run.apiToken);
		await startContainer(api, id);
	} else {
		emit({ service: agentRunnerService, phase: 'reuse' });
	}
	await run.forwardOpened; // the container's LLM path, opened by the supervisor meanwhile
	await run.apiForwardOpened; // remote: the CLI's path to the API, likewise
	if (run.wait) {
		emit({ service: agentRunnerService, phase: 'wait' });
		await waitContainerReady(api, home, id, plan.endpoint, run.timeoutSeconds, run.options.signal);
		emit({ service: agentRunnerService, phase: 'ready' });
	}
}

async function nativeLogHint(home: StigmerHome, service: string | undefined): Promise<string> {
	if (!service) return `see ${home.logsDir}`;
	const tail = await serviceLogTail(null, home, service, 10);
	return `last lines of ${home.logFile(service)}:\n${tail || '(empty)'}`;
}

async function rollback(home: StigmerHome, api: DockerApi | null, container: string | null, natives: string[]): Promise<void> {
	if (api && container) {
		await stopContainer(api, container, 5);
		await removeContainer(api, container);
	}
	// the network and forward this start may have opened, unless a container of ours still uses them
	const containerLeft = api ? (await findContainers(api, home)).length > 0 : true;
	if (!containerLeft) await releaseNetwork(api, home);
	if (natives.length > 0 && supervisorPid(home) !== null) {
		await request(home, { cmd: 'stop', services: natives, timeout: 5 }).catch(() => {});
	}
	// a supervisor started only for the forward goes too, once nothing of the stack runs
	const nativeUp = (await nativeState(home)).services.some((s) => ['running', 'starting', 'restarting'].includes(s.state));
	if (!containerLeft && !nativeUp && supervisorPid(home) !== null) await shutdownSupervisor(home, 5);
}

/** Ready = running, Docker health not unhealthy, and /readyz answering 200. Exit 4 on timeout. */
export async function waitContainerReady(api: DockerApi, home: StigmerHome, id: string, endpoint: string, timeoutSeconds: number, signal?: AbortSignal): Promise<void> {
	const deadline = Date.now() + timeoutSeconds * 1000;
	let lastInspect = 0;
	for (;;) {
		checkAborted(signal);
		if (await probeHttp(`${endpoint}/readyz`, 1000)) {
			const inspect = await inspectContainer(api, id);
			// a Ctrl-C or the deadline that came while the probe was out wins over its answer
			checkAborted(signal);
			if (inspect?.State.Running && inspect.State.Health?.Status !== 'unhealthy' && Date.now() <= deadline) return;
		}
		// A container that died will not become ready: say so now instead of at the deadline.
		if (Date.now() - lastInspect > 500) {
			lastInspect = Date.now();
			const inspect = await inspectContainer(api, id);
			if (!inspect) throw new UserError(`${agentRunnerService} container disappeared while starting`, 1, 'run `stigmer server start` again');
			if (!inspect.State.Running && !inspect.State.Restarting && inspect.State.Status !== 'created') {
				const logs = await serviceLogTail(api, home, agentRunnerService, 20);
				throw new UserError(
					`${agentRunnerService} exited with code ${inspect.State.ExitCode}${inspect.State.OOMKilled ? ' (killed: out of memory; raise agentRunner.memory)' : ''} while starting`,
					1,
					`its last lines:\n${logs || '(no output)'}${dataFullHint(home, logs)}`,
				);
			}
		}
		if (Date.now() > deadline) {
			const logs = await serviceLogTail(api, home, agentRunnerService, 20);
			throw new TimeoutError(`${agentRunnerService} did not become ready within ${timeoutSeconds} s (${endpoint}/readyz)`, `its last lines:\n${logs || '(no output)'}`);
		}
		await new Promise((r) => setTimeout(r, 50));
	}
}

/** The runner names its own /data when that is full: say where that is on this machine. */
function dataFullHint(home: StigmerHome, logs: string): string {
	if (!/no space left on the file system of \/data\b/.test(logs) || !existsSync(home.agentRunnerDataDir)) return '';
	const fs = fileSystemOf(home.agentRunnerDataDir);
	return `\n/data is ${home.agentRunnerDataDir} on this machine, on ${fs.mountPoint}${fs.freeBytes === null ? '' : ` (${formatBytes(fs.freeBytes)} free)`}: free space there, then \`stigmer server start\``;
}

export interface StopOptions extends StackOptions {
	services?: string[];
	timeoutSeconds?: number;
	/**
	 * Also remove the home's named volumes (a remote engine's workspace and data), as `docker compose down
	 * --volumes` does: their content is lost. Only when agent-runner is among the services stopped.
	 */
	volumes?: boolean;
}

/** Stops all or the named services: SIGTERM / docker stop, then kill after the timeout. */
export async function stopStack(home: StigmerHome, options: StopOptions = {}): Promise<void> {
	// an invalid config.yaml does not keep the user from stopping what runs: the services are then the
	// supervisor's (its state) and the container (the engine's labels), all of which belong to this home
	const { config, invalid } = options.config ? { config: options.config, invalid: null } : await configOrRunning(home);
	if (invalid) options.onEvent?.({ service: 'config', phase: 'config-invalid', text: invalid.oneLine() });
	const selected = selectServices(config, options.services);
	const all = !options.services || options.services.length === 0;
	const timeout = options.timeoutSeconds ?? defaultTimeouts.stopSeconds;
	const emit = options.onEvent ?? (() => {});
	if (options.volumes && !selected.includes(agentRunnerService)) throw new UsageError(`--volumes removes ${agentRunnerService}'s volumes: stop ${agentRunnerService} too (or name no service)`);
	home.ensureLayout();
	const lock = await acquireHomeLock(home, { what: 'stopping', signal: options.signal });
	try {
		const tasks: Promise<void>[] = [];
		if (selected.includes(agentRunnerService)) {
			tasks.push(
				(async () => {
					let api: DockerApi;
					try {
						api = await connectEngine(options);
					} catch (error) {
						// Nothing of ours can run in an engine that is down; natives are still stopped.
						if (error instanceof EngineUnreachableError && !options.volumes) return releaseNetwork(null, home);
						throw error;
					}
					try {
						for (const c of await findContainers(api, home)) {
							emit({ service: agentRunnerService, phase: 'stop' });
							await stopContainer(api, c.Id, timeout);
							await removeContainer(api, c.Id);
							emit({ service: agentRunnerService, phase: 'stopped' });
						}
						await releaseNetwork(api, home);
						if (options.volumes || engineIsRemote(api.endpoint)) await removeHomeVolumes(api, home, options.volumes ? emit : null);
					} finally {
						if (!options.api) api.close();
					}
				})(),
			);
		}
		const natives = config.services.map((s) => s.name).filter((n) => selected.includes(n));
		if (all) {
			const up = (await nativeState(home)).services.filter((s) => ['running', 'starting', 'restarting'].includes(s.state));
			for (const n of up) emit({ service: n.name, phase: 'stop' });
			tasks.push(
				shutdownSupervisor(home, timeout).then(() => {
					for (const n of up) emit({ service: n.name, phase: 'stopped' });
				}),
			);
		} else if (natives.length > 0 && supervisorPid(home) !== null) {
			tasks.push(
				request(home, { cmd: 'stop', services: natives, timeout }, { timeoutMs: (timeout + 10) * 1000 }).then((r) => {
					if (!r.ok) throw new UserError(`stopping ${natives.join(', ')} failed: ${r.error}`);
					for (const n of natives) emit({ service: n, phase: 'stopped' });
				}),
			);
		}
		const results = await Promise.allSettled(tasks);
		const failed = results.find((r) => r.status === 'rejected');
		if (failed) throw (failed as PromiseRejectedResult).reason;
	} finally {
		lock.release();
	}
}

/**
 * Once the home's containers are gone: the secrets volumes a container removed without its volumes left
 * behind (`docker rm -f` without -v), and with `emit` (`server stop --volumes`) the named volumes too.
 */
async function removeHomeVolumes(api: DockerApi, home: StigmerHome, emit: ((event: StackEvent) => void) | null): Promise<void> {
	for (const volume of await listRemoteVolumes(api, home)) {
		if (!emit && volume.holds !== 'secrets') continue;
		try {
			await api.removeVolume(volume.name);
		} catch (error) {
			throw new UserError(`cannot remove the volume ${volume.name}: ${engineMessage(error)}`, 1, `a container outside stigmer may use it: \`docker ps -a --filter volume=${volume.name}\``);
		}
		if (volume.holds !== 'secrets') emit?.({ service: agentRunnerService, phase: 'volume-removed', text: volume.name });
	}
}

export async function restartStack(home: StigmerHome, options: StartOptions = {}): Promise<StackStatus> {
	const config = options.config ?? loadConfig(home);
	const selected = selectServices(config, options.services);
	await stopStack(home, { ...options, config, services: selected.length === serviceNames(config).length ? undefined : selected });
	return startStack(home, { ...options, config, services: selected });
}

/**
 * config.yaml, or when it is invalid a stand-in built from what runs: the defaults for the container, and
 * as natives the services the supervisor (or the processes, homeNatives.ts) knows of. `invalid` says why.
 */
async function configOrRunning(home: StigmerHome): Promise<{ config: StigmerConfig; invalid: ConfigError | null }> {
	try {
		return { config: loadConfig(home), invalid: null };
	} catch (error) {
		if (!(error instanceof ConfigError)) throw error;
		const known = (await nativeState(home)).services;
		const services = known.map((s) => ({ name: s.name, command: s.command ?? [s.name], args: [], cwd: null, env: {}, ready: null, optional: false, restart: 'never' as const }));
		return { config: { ...defaultConfig(home), services }, invalid: error };
	}
}

function configuredNativeRow(home: StigmerHome, name: string, config: StigmerConfig): ServiceStatus {
	const service = config.services.find((s) => s.name === name)!;
	const found = resolveExecutable(service.command[0]!, { cwd: service.cwd ?? home.dir, binDir: home.binDir });
	if (!found && service.optional)
		return { name, kind: 'native', state: 'not-installed', health: null, restarts: 0, exitCode: null, message: `${service.command[0]} not found on PATH or in ${home.binDir}` };
	return { name, kind: 'native', state: 'stopped', health: null, restarts: 0, exitCode: null };
}

/** The truth about every service, read from the engine and the supervisor's state file. */
export async function stackStatus(home: StigmerHome, options: { api?: DockerApi; config?: StigmerConfig } = {}): Promise<StackStatus> {
	const { config, invalid } = options.config ? { config: options.config, invalid: null } : await configOrRunning(home);
	const endpoint = `http://127.0.0.1:${config.agentRunner.port}`;
	let api = options.api ?? null;
	let engineError: string | undefined;
	if (!api) {
		try {
			api = await DockerApi.connect(process.env, 2000);
		} catch (error) {
			engineError = errorMessage(error);
		}
	}
	let containerRow: ServiceStatus;
	try {
		if (api) {
			const remote = engineIsRemote(api.endpoint);
			const [inspect, volumes] = await Promise.all([currentContainer(api, home), remote ? listRemoteVolumes(api, home) : Promise.resolve(null)]);
			const [row, oom] = await Promise.all([withHealthFallback(containerStatus(inspect, endpoint, inspect?.Config.Image ?? config.agentRunner.image), inspect), refreshOomRecord(api, home, inspect)]);
			containerRow = withOom(row, oom.record);
			containerRow.imageSource = imageSourceStatus(inspect ? inspect.Config.Labels : undefined, config.agentRunner.image);
			if (volumes) containerRow.volumes = volumes.filter((v) => v.holds !== 'secrets').map((v) => ({ name: v.name, holds: v.holds }));
		} else {
			containerRow = { ...containerStatus(null, endpoint, config.agentRunner.image), state: 'unknown', message: 'container engine unreachable' };
		}
	} finally {
		if (api && !options.api) api.close();
	}
	const state = await nativeState(home);
	const byName = new Map(state.services.map((s) => [s.name, s]));
	const natives = config.services.map((s) => {
		const known = byName.get(s.name);
		return known ? nativeRow(known) : configuredNativeRow(home, s.name, config);
	});
	const status: StackStatus = {
		engine: api?.info
			? { reachable: true, endpoint: api.info.endpoint, version: api.info.version }
			: { reachable: false, endpoint: safeEndpointUrl(), version: null, ...(engineError ? { error: engineError } : {}) },
		services: [containerRow, ...natives],
	};
	status.supervisor = { pid: state.supervisorPid };
	const forward = llmForwardRow(state.forward, state.supervisorPid !== null, ['running', 'starting', 'restarting'].includes(containerRow.state));
	if (forward) status.llmForward = forward;
	if (invalid) {
		status.configError = invalid.oneLine();
		// the port comes from the container itself: the configured one cannot be read
		if (containerRow.state !== 'unknown' && !containerRow.id) delete containerRow.endpoint;
	}
	return status;
}

function safeEndpointUrl(): string {
	try {
		return endpointUrl(resolveEndpoint());
	} catch {
		return process.env.DOCKER_HOST ?? '';
	}
}
