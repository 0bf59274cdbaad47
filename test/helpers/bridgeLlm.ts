// The fake LLM as a remote engine's containers would reach an LLM on their own network: the server on
// this machine's 127.0.0.1, and an LlmForward on the engine's default bridge gateway (accepting that
// subnet only). `url` is then an address as seen from the container, which stigmer uses as it is.
import { networkInterfaces } from 'node:os';
import { baseImage } from '../../source/contract.js';
import { LlmForward } from '../../source/supervisor/LlmForward.js';
import { docker, networkGateway } from './docker.js';
import { type FakeLlm, type FakeLlmOptions, startFakeLlm } from './fakeLlm.js';

export interface BridgeLlm {
	llm: FakeLlm;
	/** llm.baseUrl for config.yaml */
	url: string;
	close(): Promise<void>;
}

export async function startBridgeLlm(options: Omit<FakeLlmOptions, 'host'> = { script: [] }): Promise<BridgeLlm> {
	const llm = await startFakeLlm({ ...options, host: '127.0.0.1' });
	const bridge = await networkGateway('bridge');
	if (!bridge) throw new Error("the engine's default bridge has no IPv4 subnet");
	const keeper = await keepBridgeUp(bridge.gateway);
	const forward = await LlmForward.open({ listenHost: bridge.gateway, port: 0, targetHost: '127.0.0.1', targetPort: llm.port, allow: bridge.subnet });
	if (forward.status().boundPort === 0) throw new Error(`the LLM forward could not listen on the default bridge's gateway ${bridge.gateway}`);
	return {
		llm,
		url: `http://${bridge.gateway}:${forward.status().boundPort}/v1`,
		async close() {
			await forward.close();
			await llm.close();
			if (keeper) await docker(['rm', '-f', keeper], { allowFailure: true });
		},
	};
}

const hasAddress = (address: string) => Object.values(networkInterfaces()).some((list) => list?.some((i) => i.address === address));

/**
 * Podman makes its default bridge's interface (podman0, 10.88.0.1) only while a container is on it, and
 * the forward must listen there before the runner starts: a container kept on the bridge until close()
 * (null where the gateway is already this machine's, as Docker's docker0 always is).
 */
async function keepBridgeUp(gateway: string): Promise<string | null> {
	if (hasAddress(gateway)) return null;
	const id = (await docker(['run', '-d', '--rm', '--network', 'bridge', '--label', 'ai.stigmer.test-bridge-keeper=true', baseImage, 'sleep', '3600'])).stdout.trim();
	const deadline = Date.now() + 30_000;
	while (!hasAddress(gateway)) {
		if (Date.now() > deadline) {
			await docker(['rm', '-f', id], { allowFailure: true });
			throw new Error(`the default bridge's gateway ${gateway} did not come up on this machine with a container on it`);
		}
		await new Promise((r) => setTimeout(r, 100));
	}
	return id;
}
