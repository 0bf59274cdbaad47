// The agent-runner's network, set up before its container is planned and released after it is removed:
// the network it joins (ContainerService.chooseNetwork), and on a local Linux engine with an LLM on the
// host's loopback, the supervisor's forward to it (supervisor/LlmForward.ts).
import type { AgentRunnerConfig } from '../config/types.js';
import { apiBridgeUser } from '../contract.js';
import { type ContainerNetwork, chooseNetwork, containerLlmUrl, defaultBridgeNetwork, loopbackLlm } from './ContainerService.js';
import type { DockerApi } from '../engine/DockerApi.js';
import { ensureHomeNetwork, removeHomeNetwork } from './HomeNetwork.js';
import { engineIsRemote } from '../engine/locality.js';
import { UserError } from '../errors.js';
import type { StigmerHome } from '../home/StigmerHome.js';
import type { ApiForwardStatus } from '../supervisor/ApiForward.js';
import { type LlmForwardStatus, predictForwardPort } from '../supervisor/LlmForward.js';
import { ensureSupervisor, request, supervisorPid } from '../supervisor/SupervisorClient.js';

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
