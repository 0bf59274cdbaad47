// The agent-runner's network, the one module that owns it: which network the container joins
// (chooseNetwork), the LLM's URL as the container sees it, the home's own bridge network, and on a local
// Linux engine with an LLM on the host's loopback, the supervisor's forward to it (supervisor/LlmForward.ts);
// set up before the container is planned and released after it is removed.
//
// The home's own bridge network (local Linux engines): the agent-runner joins it instead of the host's
// network namespace. Owning one per home, rather than joining the engine's default bridge, gives:
// no traffic with other containers (the engine isolates its bridges from one another), a gateway
// address the engine reports in the network's IPAM config (the default bridge leaves it out on Docker
// 20.10), a subnet that holds our container only (the LLM forward accepts that subnet and nothing
// else), and no clash between two homes forwarding the same LLM port.
import { homedir } from 'node:os';
import path from 'node:path';
import type { AgentRunnerConfig } from '../config/types.js';
import { apiBridgeUser, labels } from '../contract.js';
import { type DockerApi, engineMessage, engineStatus, orNull } from '../engine/DockerApi.js';
import { isPodman } from '../engine/enginePing.js';
import { engineIsRemote } from '../engine/locality.js';
import { UserError } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import type { ApiForwardStatus } from '../supervisor/ApiForward.js';
import { type LlmForwardStatus, predictForwardPort } from '../supervisor/LlmForward.js';
import { ensureSupervisor, request, supervisorPid } from '../supervisor/SupervisorClient.js';

export interface NetworkChoice {
	/**
	 * `home`: a local Linux engine. The container joins the home's own bridge network; an LLM on the
	 * host's loopback is reached through the supervisor's forward on that network's gateway.
	 * `bridge`: Docker Desktop, Colima, OrbStack, rootless Podman or a remote engine. The engine's default
	 * bridge, with host.docker.internal routed by the engine (to the host's loopback on the VM engines).
	 */
	mode: 'home' | 'bridge';
	reason: string;
	/**
	 * Podman names the host `host.containers.internal` in every container by itself, and Podman before
	 * 4.7 refuses Docker's `host-gateway` (podman#19152), so there no ExtraHosts entry is asked for.
	 */
	podman?: boolean;
}

/**
 * Every engine gets a bridge: the container never shares the host's network namespace, so agent code can
 * neither listen on the host's interfaces nor reach services on the host's loopback. On a local Linux
 * engine the home's own network is used (the top of this file says why); elsewhere the engine's default bridge.
 */
export async function chooseNetwork(api: DockerApi): Promise<NetworkChoice> {
	// negotiation already named the engine (/_ping's Server header, or /version's Components)
	const podman = isPodman(api.info);
	if (engineIsRemote(api.endpoint)) return { mode: 'bridge', reason: 'default bridge (remote engine)', podman };
	const info = (await api.docker.info()) as { OperatingSystem?: string; Name?: string; SecurityOptions?: string[] };
	const os = info.OperatingSystem ?? '';
	const endpoint = api.endpoint.kind === 'unix' ? api.endpoint.socketPath : '';
	const vm = /Docker Desktop|OrbStack/i.test(os) || endpoint.startsWith(path.join(homedir(), '.colima')) || endpoint.includes('/.docker/') || endpoint.includes('/.orbstack/');
	if (process.platform !== 'linux' || vm) return { mode: 'bridge', reason: `default bridge (${os || 'engine in a VM'})`, podman };
	// rootless engines keep their bridges in a namespace of their own: its gateway is no host address
	if ((info.SecurityOptions ?? []).some((o) => /rootless/.test(o))) return { mode: 'bridge', reason: 'default bridge (rootless engine)', podman };
	return { mode: 'home', reason: 'own bridge network (local Linux engine)', podman };
}

/** The network settings of the container, as planContainer puts them in the create request. */
export interface ContainerNetwork {
	choice: NetworkChoice;
	/** HostConfig.NetworkMode: `bridge`, or the home network's name */
	networkMode: string;
	/** the LLM base URL as the container sees it */
	llmUrl: string;
	/** llmUrl is the supervisor's forward to the host's loopback LLM */
	viaForward?: boolean;
	extraHosts: string[];
}

const loopbackHosts = ['127.0.0.1', 'localhost', '[::1]', '::1', '0.0.0.0'];

/** The host's loopback LLM (host, port) when llm.baseUrl points at the host's loopback, else null. */
export function loopbackLlm(hostUrl: string): { host: string; port: number } | null {
	let url: URL;
	try {
		url = new URL(hostUrl);
	} catch {
		return null;
	}
	if (!loopbackHosts.includes(url.hostname) && !/^127\./.test(url.hostname)) return null;
	const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
	const host = url.hostname === '[::1]' || url.hostname === '::1' ? '::1' : /^127\./.test(url.hostname) ? url.hostname : '127.0.0.1';
	return { host, port };
}

/**
 * The LLM URL as the container sees it: a host loopback address becomes `via` (host.docker.internal, or
 * the forward's address), and the port `port` when given. Any other URL is kept as it is.
 */
export function containerLlmUrl(hostUrl: string, via: string, port?: number): string {
	if (!loopbackLlm(hostUrl)) return hostUrl;
	const url = new URL(hostUrl);
	url.hostname = via;
	if (port !== undefined) url.port = String(port);
	return url.toString().replace(/\/$/, hostUrl.endsWith('/') ? '/' : '');
}

/** The engine's default bridge, with the host's name resolved by the engine (Docker: host-gateway). */
export function defaultBridgeNetwork(hostUrl: string, choice: NetworkChoice): ContainerNetwork {
	if (choice.podman) return { choice, networkMode: 'bridge', llmUrl: containerLlmUrl(hostUrl, 'host.containers.internal'), extraHosts: [] };
	return { choice, networkMode: 'bridge', llmUrl: containerLlmUrl(hostUrl, 'host.docker.internal'), extraHosts: ['host.docker.internal:host-gateway'] };
}

export interface PreparedNetwork extends ContainerNetwork {
	/**
	 * The forward to the host's loopback LLM (null when there is none). It may still be opening while the
	 * container is created: await it before the container is waited for; it rejects when the forward
	 * failed or took another port than the container was given.
	 */
	forward: Promise<LlmForwardStatus | null>;
}

export async function prepareNetwork(api: DockerApi, home: StigmerHome, config: AgentRunnerConfig): Promise<PreparedNetwork> {
	const llm = loopbackLlm(config.llm.baseUrl);
	// a local Linux engine will most likely want the forward: its supervisor starts meanwhile
	const supervisor = llm && process.platform === 'linux' && !engineIsRemote(api.endpoint) ? ensureSupervisor(home) : null;
	supervisor?.catch(() => {}); // awaited below when needed
	const choice = await chooseNetwork(api);
	if (choice.mode === 'bridge') return { ...defaultBridgeNetwork(config.llm.baseUrl, choice), forward: Promise.resolve(null) };
	const network = await ensureHomeNetwork(api, home);
	const base: ContainerNetwork = {
		choice,
		networkMode: network.name,
		llmUrl: config.llm.baseUrl,
		// the name the VM engines route to the host means the same here: the host's side of the network
		extraHosts: [`host.docker.internal:${network.gateway}`],
	};
	if (!llm) return { ...base, forward: Promise.resolve(null) };
	const opening = (async (): Promise<LlmForwardStatus> => {
		await (supervisor ?? ensureSupervisor(home));
		const response = await request(home, { cmd: 'forward', listenHost: network.gateway, port: llm.port, targetHost: llm.host, targetPort: llm.port, allow: network.subnet }, { timeoutMs: 15_000 });
		if (!response.ok) throw new UserError(`cannot forward the LLM to the container: ${response.error}`);
		const forward = response.forward ?? null;
		if (!forward || forward.mode === 'failed') {
			throw new UserError(
				`cannot forward ${config.llm.baseUrl} to the container: ${forward?.error ?? 'the supervisor opened no forward'}`,
				1,
				`see ${home.logFile('supervisor')}, or set agentRunner.llm.baseUrl in ${home.configFile} to an address the container can reach`,
			);
		}
		return forward;
	})();
	// Starting the supervisor takes longer than creating the container: when the port is known without
	// it (nearly always), the container does not wait for it.
	const predicted = await predictForwardPort(network.gateway, llm.port);
	if (predicted === null) {
		const forward = await opening;
		return { ...base, llmUrl: containerLlmUrl(config.llm.baseUrl, network.gateway, forward.boundPort), viaForward: forward.mode !== 'direct', forward: Promise.resolve(forward) };
	}
	const confirmed = opening.then((forward) => {
		if (forward.boundPort !== predicted) {
			throw new UserError(`the LLM forward took port ${forward.boundPort} instead of ${predicted} meanwhile`, 1, 'run `stigmer server start` again');
		}
		return forward;
	});
	confirmed.catch(() => {}); // the caller awaits it
	return { ...base, llmUrl: containerLlmUrl(config.llm.baseUrl, network.gateway, predicted), viaForward: true, forward: confirmed };
}

/**
 * A remote engine: the supervisor's forward from this machine's 127.0.0.1:agentRunner.port to the API in
 * the container (an exec'd bridge per connection, supervisor/ApiForward.ts). It needs only the
 * container's name, so it opens while the container is made. A port taken by another program fails here.
 */
export async function openApiForward(api: DockerApi, home: StigmerHome, config: AgentRunnerConfig): Promise<ApiForwardStatus> {
	await ensureSupervisor(home);
	const spec = { port: config.port, container: home.containerName, endpoint: api.endpoint, user: apiBridgeUser };
	const response = await request(home, { cmd: 'apiForward', ...spec }, { timeoutMs: 15_000 });
	if (!response.ok) throw new UserError(`cannot open the forward to the agent-runner's API: ${response.error}`);
	const forward = response.apiForward ?? null;
	if (!forward || forward.mode === 'failed') {
		throw new UserError(
			forward?.error ?? 'the supervisor opened no forward to the agent-runner API',
			1,
			`stop it (\`stigmer doctor\` shows which process holds it), or set agentRunner.port in ${home.configFile}`,
		);
	}
	return forward;
}

/** After the container is gone: the forwards are closed and the home's network removed. */
export async function releaseNetwork(api: DockerApi | null, home: StigmerHome): Promise<void> {
	const closing =
		supervisorPid(home) !== null
			? Promise.all([request(home, { cmd: 'unforward' }, { timeoutMs: 10_000 }), request(home, { cmd: 'apiUnforward' }, { timeoutMs: 10_000 })]).catch(() => undefined)
			: Promise.resolve();
	await Promise.all([closing, api ? removeHomeNetwork(api, home) : Promise.resolve()]);
}

export interface HomeNetwork {
	name: string;
	/** the host's address on this network: where the LLM forward listens */
	gateway: string;
	/** IPv4 CIDR of the network */
	subnet: string;
}

interface NetworkInspect {
	Name: string;
	Labels: Record<string, string> | null;
	IPAM?: { Config?: Array<{ Subnet?: string; Gateway?: string }> | null };
}

function fromInspect(inspect: NetworkInspect): HomeNetwork | null {
	const config = (inspect.IPAM?.Config ?? []).find((c) => c.Subnet && !c.Subnet.includes(':') && c.Gateway);
	return config ? { name: inspect.Name, gateway: config.Gateway!.replace(/\/\d+$/, ''), subnet: config.Subnet! } : null;
}

/** The home's network, created (labelled) when missing. */
export async function ensureHomeNetwork(api: DockerApi, home: StigmerHome): Promise<HomeNetwork> {
	const name = home.networkName;
	const network = api.docker.getNetwork(name);
	let inspect = (await orNull(network.inspect())) as NetworkInspect | null;
	if (inspect && inspect.Labels?.[labels.home] !== home.hash) {
		throw new UserError(`the engine has a network named ${name} that stigmer did not create for ${home.dir}`, 1, `remove or rename it (docker network rm ${name})`);
	}
	if (!inspect) {
		try {
			await api.docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [labels.managed]: 'true', [labels.home]: home.hash } });
		} catch (error) {
			// 409: a concurrent start made it first
			if (engineStatus(error) !== 409) {
				const message = engineMessage(error);
				throw new UserError(
					`cannot create the network ${name}: ${message}`,
					1,
					/pool/i.test(message) ? 'the engine ran out of address pools: docker network prune removes unused networks' : undefined,
				);
			}
		}
		inspect = (await network.inspect()) as NetworkInspect;
	}
	const found = fromInspect(inspect);
	if (!found) throw new UserError(`the network ${name} has no IPv4 subnet and gateway in its IPAM config`, 1, `docker network rm ${name}, then start again`);
	return found;
}

/** Removes the home's network; a network still in use or already gone is left alone. */
export async function removeHomeNetwork(api: DockerApi, home: StigmerHome): Promise<void> {
	const name = home.networkName;
	const network = api.docker.getNetwork(name);
	const inspect = (await orNull(network.inspect())) as NetworkInspect | null;
	if (!inspect || inspect.Labels?.[labels.home] !== home.hash) return;
	try {
		await network.remove();
	} catch (error) {
		const code = engineStatus(error);
		if (code === 404 || code === 403 || code === 409) return; // gone, or a container still uses it
		throw error;
	}
}
