// How the supervisor's forwards turn away a connection they have no way through for: an HTTP client
// (the runner calling its LLM, the CLI calling the runner) is answered 502 with a JSON body that names
// the reason, so the user reads it instead of a bare "connection reset"; anything else is closed. And
// the other way round, how the API forward tells an HTTP answer from what an engine writes into an exec's
// stream when the exec fails after its hijack (ApiForward.ts: such bytes never reach the client).
import type net from 'node:net';

const httpRequestLine = /^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /;

export function badGateway(body: string): string {
	return `HTTP/1.1 502 Bad Gateway\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

/** Waits for the client's first bytes (2 s at most: loopback may refuse faster than it writes), then answers or closes. */
export function refuseHttp(client: net.Socket, body: string): void {
	let answered = false;
	const answer = (first: Buffer | null) => {
		if (answered) return;
		answered = true;
		clearTimeout(timer);
		const head = first?.subarray(0, 16).toString('latin1') ?? '';
		if (httpRequestLine.test(head)) client.end(badGateway(body));
		else client.destroy();
	};
	const timer = setTimeout(() => answer(null), 2000);
	client.once('data', (chunk: Buffer) => answer(chunk));
	client.resume();
}

const httpStart = Buffer.from('HTTP/');

/** Whether the first bytes of an answer start an HTTP response ('wait': too few to tell yet). */
export function httpAnswerStart(first: Buffer): 'yes' | 'no' | 'wait' {
	const n = Math.min(first.length, httpStart.length);
	if (!first.subarray(0, n).equals(httpStart.subarray(0, n))) return 'no';
	return first.length >= httpStart.length ? 'yes' : 'wait';
}
