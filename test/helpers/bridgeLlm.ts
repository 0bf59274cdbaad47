// The fake LLM as a remote engine's containers would reach an LLM on their own network: the server on
// this machine's 127.0.0.1, and an LlmForward on the engine's default bridge gateway (accepting that
// subnet only). `url` is then an address as seen from the container, which stigmer uses as it is.
import { LlmForward } from '../../source/supervisor/LlmForward.js';
import { networkGateway } from './docker.js';
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
	const forward = await LlmForward.open({ listenHost: bridge.gateway, port: 0, targetHost: '127.0.0.1', targetPort: llm.port, allow: bridge.subnet });
	return {
		llm,
		url: `http://${bridge.gateway}:${forward.status().boundPort}/v1`,
		async close() {
			await forward.close();
			await llm.close();
		},
	};
}
