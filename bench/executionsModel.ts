// The fake model of bench/executions.ts, in a worker thread of its own: 20 busy executions make ~130
// model requests a second, and served on the bench's own event loop they delayed its polling of the
// terminal, which then counted them as the dashboard's key → screen time.
//   `bench-change` answers after 300 ms; `bench-load N` calls run_command every 150 ms for N turns.
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { type FakeLlmStep, startFakeLlm } from '../test/helpers/fakeLlm.js';

function respond(body: { messages?: Array<{ role: string; content?: string }> }): FakeLlmStep | undefined {
	const messages = body.messages ?? [];
	const prompt = messages.find((m) => m.role === 'user')?.content ?? '';
	const turn = messages.filter((m) => m.role === 'assistant').length;
	if (prompt.startsWith('bench-change')) return { delayMs: 300, content: 'done' };
	const load = /^bench-load (\d+)/.exec(prompt);
	if (load) return turn < Number(load[1]) ? { delayMs: 150, toolCalls: [{ name: 'run_command', arguments: { command: `echo step ${turn}` } }] } : { content: 'done' };
	return undefined;
}

/** Starts the model in a worker (the worker inherits tsx's loader through execArgv); close ends it. */
export async function startModelWorker(): Promise<{ url: string; close: () => Promise<void> }> {
	const worker = new Worker(new URL(import.meta.url));
	const url = await new Promise<string>((resolve, reject) => {
		worker.once('message', (message: { url: string }) => resolve(message.url));
		worker.once('error', reject);
		worker.once('exit', (code) => reject(new Error(`the model's worker exited with ${code}`)));
	});
	return {
		url,
		close: async () => {
			worker.postMessage('close');
			await new Promise((resolve) => worker.once('exit', resolve));
		},
	};
}

if (!isMainThread && parentPort) {
	const port = parentPort;
	const llm = await startFakeLlm({ script: [], host: '127.0.0.1', respond });
	port.on('message', async () => {
		await llm.close();
		port.close();
	});
	port.postMessage({ url: llm.url });
}
