// What the supervisor's LLM forward adds to a model call: the fake LLM on 127.0.0.1, the forward on
// 127.0.0.2 (standing in for the bridge gateway; same code path), N sequential chat-completion requests
// on one keep-alive connection and N on a new connection each, direct vs through the forward.
// Run: node --import tsx bench/llmForward.ts [requests]
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { LlmForward } from '../source/supervisor/LlmForward.js';
import { startFakeLlm } from '../test/helpers/fakeLlm.js';
import { percentile } from './benchStats.js';

const requests = Number(process.argv[2] ?? 300);
const body = JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'x'.repeat(2000) }] });

function post(host: string, port: number, agent: http.Agent | false): Promise<number> {
	const t = performance.now();
	return new Promise((resolve, reject) => {
		const req = http.request({ host, port, path: '/v1/chat/completions', method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
			res.resume();
			res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t) : reject(new Error(`status ${res.statusCode}`))));
		});
		req.on('error', reject);
		req.end(body);
	});
}

async function series(host: string, port: number, keepAlive: boolean): Promise<number[]> {
	const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
	const out: number[] = [];
	for (let i = 0; i < requests; i++) out.push(await post(host, port, agent));
	if (agent) agent.destroy();
	return out;
}

async function main(): Promise<void> {
	const llm = await startFakeLlm({ script: [], host: '127.0.0.1', whenExhausted: { content: 'ok' } });
	const forward = await LlmForward.open({ listenHost: '127.0.0.2', port: llm.port, targetHost: '127.0.0.1', targetPort: llm.port, allow: '127.0.0.0/8' });
	try {
		await series('127.0.0.1', llm.port, true); // warm-up
		await series('127.0.0.2', llm.port, true);
		console.log(`LLM forward overhead, ${requests} sequential requests each (Node ${process.version})`);
		for (const keepAlive of [true, false]) {
			const direct = await series('127.0.0.1', llm.port, keepAlive);
			const forwarded = await series('127.0.0.2', llm.port, keepAlive);
			const row = (name: string, xs: number[]) => `${name.padEnd(34)} p50 ${percentile(xs, 50).toFixed(2)} ms   p95 ${percentile(xs, 95).toFixed(2)} ms`;
			const how = keepAlive ? 'one keep-alive connection' : 'a new connection each';
			console.log(row(`direct, ${how}`, direct));
			console.log(row(`forward, ${how}`, forwarded));
		}
	} finally {
		await forward.close();
		await llm.close();
	}
}

main().catch((error) => {
	console.error(error);
	process.exitCode = 1;
});
