// A fake OpenAI-compatible chat-completions server: the one thing that cannot run here for real.
// It speaks the real protocol over a real socket (POST /v1/chat/completions, non-streaming), replays a
// script of assistant turns and records every request, so tests can assert what the model was sent.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forwardToRemoteHost } from './remoteEngine.js';

export type FakeToolCall = { name: string; arguments: Record<string, unknown> | string; id?: string };

/** One assistant turn: text, tool calls or both; `delayMs` before answering; `status` to answer an HTTP error. */
export type FakeLlmStep = {
	content?: string | null;
	toolCalls?: FakeToolCall[];
	delayMs?: number;
	status?: number;
};

export type RecordedRequest = {
	method: string;
	path: string;
	headers: IncomingMessage['headers'];
	body: any;
	receivedAt: number;
};

export type FakeLlmOptions = {
	script: FakeLlmStep[];
	host?: string;
	port?: number;
	/** Answer when the script is exhausted (default: a final answer "done"). */
	whenExhausted?: FakeLlmStep;
	/**
	 * Chooses the answer from the request before the script is consulted (several executions at once,
	 * each with its own story: route on the user's prompt and the turns so far). Undefined: the script.
	 */
	respond?: (body: any) => FakeLlmStep | undefined;
};

export type FakeLlm = {
	/** Base URL as an OpenAI client expects it, e.g. http://127.0.0.1:40123/v1 */
	url: string;
	host: string;
	port: number;
	requests: RecordedRequest[];
	/** The steps still to replay (live; tests may inspect it). */
	script: FakeLlmStep[];
	/** Appends steps to the script. */
	push(...steps: FakeLlmStep[]): void;
	/** Forgets the recorded requests and the remaining script. */
	reset(): void;
	/** Resolves when `count` chat-completion requests have arrived. */
	waitForRequests(count: number, timeoutMs?: number): Promise<void>;
	close(): Promise<void>;
};

export const toolCall = (name: string, args: Record<string, unknown>): FakeLlmStep => ({
	toolCalls: [{ name, arguments: args }],
});
export const finalAnswer = (content: string): FakeLlmStep => ({ content });

/**
 * A `respond` for several executions at once: each agent's story is `routes.get(first line of its
 * instructions)`, consumed step by step, then a final answer; other requests take the script.
 */
export const routeByInstructions =
	(routes: Map<string, FakeLlmStep[]>) =>
	(body: any): FakeLlmStep | undefined => {
		const steps = routes.get(String(body?.messages?.[0]?.content ?? '').split('\n')[0]!);
		return steps ? (steps.shift() ?? finalAnswer('done')) : undefined;
	};

function send(res: ServerResponse, status: number, payload: unknown): void {
	const body = JSON.stringify(payload);
	res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
	res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString('utf8');
}

export async function startFakeLlm(options: FakeLlmOptions): Promise<FakeLlm> {
	const script = [...options.script];
	const requests: RecordedRequest[] = [];
	const waiters: Array<{ count: number; resolve: () => void }> = [];
	let turn = 0;

	const server = createServer(async (req, res) => {
		// a client that gives up (a cancelled execution) closes the request: nothing to answer
		const raw = await readBody(req).catch(() => null);
		if (raw === null) return;
		const path = (req.url ?? '/').split('?')[0] ?? '/';
		let body: any = null;
		try {
			body = raw ? JSON.parse(raw) : null;
		} catch {
			send(res, 400, { error: { message: 'request body is not JSON', type: 'invalid_request_error' } });
			return;
		}
		if (req.method === 'GET' && path.endsWith('/models')) {
			send(res, 200, { object: 'list', data: [{ id: 'fake-model', object: 'model', owned_by: 'stigmer-test' }] });
			return;
		}
		if (req.method !== 'POST' || !path.endsWith('/chat/completions')) {
			send(res, 404, { error: { message: `no route ${req.method} ${path}`, type: 'invalid_request_error' } });
			return;
		}
		requests.push({ method: req.method, path, headers: req.headers, body, receivedAt: Date.now() });
		for (const waiter of waiters.filter((w) => requests.length >= w.count)) {
			waiters.splice(waiters.indexOf(waiter), 1);
			waiter.resolve();
		}
		if (body?.stream === true) {
			send(res, 400, { error: { message: 'this fake supports stream: false only', type: 'invalid_request_error' } });
			return;
		}
		const step = options.respond?.(body) ?? script.shift() ?? options.whenExhausted ?? { content: 'done' };
		turn += 1;
		if (step.delayMs) await new Promise((resolve) => setTimeout(resolve, step.delayMs));
		if (res.destroyed) return;
		if (step.status && step.status >= 400) {
			send(res, step.status, { error: { message: 'scripted failure', type: 'server_error' } });
			return;
		}
		const toolCalls = (step.toolCalls ?? []).map((call, index) => ({
			id: call.id ?? `call_${turn}_${index}`,
			type: 'function',
			function: {
				name: call.name,
				arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
			},
		}));
		const message: Record<string, unknown> = { role: 'assistant', content: step.content ?? null };
		if (toolCalls.length > 0) message.tool_calls = toolCalls;
		send(res, 200, {
			id: `chatcmpl-fake-${turn}`,
			object: 'chat.completion',
			created: Math.floor(Date.now() / 1000),
			model: body?.model ?? 'fake-model',
			choices: [{ index: 0, message, logprobs: null, finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop' }],
			usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
		});
	});

	const host = options.host ?? '127.0.0.1';
	await new Promise<void>((resolve, reject) => {
		server.once('error', reject);
		server.listen(options.port ?? 0, host, () => resolve());
	});
	const { port } = server.address() as AddressInfo;
	const urlHost = host.includes(':') ? `[${host}]` : host;
	// against the remote test host, its containers reach this loopback server through ssh -R
	const unforward = host === '127.0.0.1' ? await forwardToRemoteHost(port) : () => undefined;

	return {
		url: `http://${urlHost}:${port}/v1`,
		host,
		port,
		requests,
		script,
		push(...steps) {
			script.push(...steps);
		},
		reset() {
			requests.length = 0;
			script.length = 0;
		},
		waitForRequests(count, timeoutMs = 30_000) {
			if (requests.length >= count) return Promise.resolve();
			return new Promise((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error(`fake LLM: ${requests.length} of ${count} requests after ${timeoutMs} ms`)), timeoutMs);
				waiters.push({
					count,
					resolve: () => {
						clearTimeout(timer);
						resolve();
					},
				});
			});
		},
		close() {
			unforward();
			return new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			});
		},
	};
}
