// The fake LLM as a remote engine's containers would reach an LLM on their own network: the server on
// this machine's 127.0.0.1, and an LlmForward on the engine's default bridge gateway (accepting that
// subnet only). `url` is then an address as seen from the container, which stigmer uses as it is.
import { LlmForward } from '../../source/supervisor/LlmForward.js';
import { dockerInspect } from './docker.js';
import { type FakeLlm, type FakeLlmOptions, startFakeLlm } from './fakeLlm.js';

export interface BridgeLlm {
	llm: FakeLlm;
	/** llm.baseUrl for config.yaml */
	url: string;
	close(): Promise<void>;
}

export async function startBridgeLlm(options: Omit<FakeLlmOptions, 'host'> = { script: [] }): Promise<BridgeLlm> {
	const llm = await startFakeLlm({ ...options, host: '127.0.0.1' });
	const bridge = (await dockerInspect<{ IPAM: { Config: Array<{ Subnet: string; Gateway: string }> } }>('bridge', 'network'))?.IPAM.Config[0];
	if (!bridge) throw new Error("the engine's default bridge has no IPAM config");
	const forward = await LlmForward.open({ listenHost: bridge.Gateway, port: 0, targetHost: '127.0.0.1', targetPort: llm.port, allow: bridge.Subnet });
	return {
		llm,
		url: `http://${bridge.Gateway}:${forward.status().boundPort}/v1`,
		async close() {
			await forward.close();
			await llm.close();
		},
	};
}
