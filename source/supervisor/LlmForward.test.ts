import assert from 'node:assert/strict';
import net from 'node:net';
import { after, test } from 'node:test';
import { LlmForward, inSubnet, predictForwardPort } from './LlmForward.js';

// Real sockets on loopback addresses only: the "LLM" on 127.0.0.1, the forward on 127.0.0.2 (its
// stand-in for a bridge gateway), which Linux routes to lo like all of 127.0.0.0/8.
const servers: net.Server[] = [];
after(() => {
	for (const s of servers) s.close();
});

async function echoServer(host: string, port = 0): Promise<number> {
	const server = net.createServer((socket) => socket.pipe(socket));
	servers.push(server);
	await new Promise<void>((resolve) => server.listen(port, host, resolve));
	return (server.address() as net.AddressInfo).port;
}

/** Sends `text` and resolves with what comes back before the peer closes (or '' when it closes at once). */
function exchange(host: string, port: number, text: string): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = net.connect({ host, port });
		let got = '';
		socket.setEncoding('utf8');
		socket.setTimeout(5000, () => socket.destroy(new Error('no answer within 5 s')));
		socket.on('connect', () => socket.write(text));
		socket.on('data', (chunk: string) => {
			got += chunk;
			if (got.length >= text.length) socket.end();
		});
		socket.on('error', reject);
		socket.on('close', () => resolve(got));
	});
}

test('subnet filter', () => {
	assert.equal(inSubnet('172.18.0.2', '172.18.0.0/16'), true);
	assert.equal(inSubnet('::ffff:172.18.3.4', '172.18.0.0/16'), true);
	assert.equal(inSubnet('172.19.0.2', '172.18.0.0/16'), false);
	assert.equal(inSubnet('10.88.0.5', '10.88.0.0/16'), true);
	assert.equal(inSubnet('127.0.0.1', '0.0.0.0/0'), true);
	assert.equal(inSubnet('::1', '127.0.0.0/8'), false);
	assert.equal(inSubnet('nonsense', '127.0.0.0/8'), false);
});

test('forwards on the LLM port of the listen address, to the loopback LLM', async () => {
	const port = await echoServer('127.0.0.1');
	const forward = await LlmForward.open({ listenHost: '127.0.0.2', port, targetHost: '127.0.0.1', targetPort: port, allow: '127.0.0.0/8' });
	try {
		assert.equal(forward.status().mode, 'forward');
		assert.equal(forward.status().boundPort, port);
		assert.equal(await exchange('127.0.0.2', port, 'hello through the forward'), 'hello through the forward');
		assert.equal(forward.status().accepted, 1);
	} finally {
		await forward.close();
	}
	await assert.rejects(exchange('127.0.0.2', port, 'x'), /ECONNREFUSED/, 'closed with the forward');
});

test('a connection from outside the allowed subnet is closed unanswered', async () => {
	const port = await echoServer('127.0.0.1');
	const forward = await LlmForward.open({ listenHost: '127.0.0.2', port, targetHost: '127.0.0.1', targetPort: port, allow: '172.18.0.0/16' });
	try {
		const got = await exchange('127.0.0.2', port, 'let me in').catch(() => '');
		assert.equal(got, '');
		assert.equal(forward.status().refused, 1);
		assert.equal(forward.status().accepted, 0);
	} finally {
		await forward.close();
	}
});

test('the LLM down: an HTTP request is answered 502 naming the host address, anything else is closed', async () => {
	const closed = await echoServer('127.0.0.1');
	servers.pop()!.close();
	const forward = await LlmForward.open({ listenHost: '127.0.0.2', port: closed, targetHost: '127.0.0.1', targetPort: closed });
	try {
		const response = await fetch(`http://127.0.0.2:${closed}/v1/chat/completions`, { method: 'POST', body: '{}' });
		assert.equal(response.status, 502);
		const body = (await response.json()) as { error: { message: string } };
		assert.match(body.error.message, new RegExp(`cannot reach the LLM at 127\\.0\\.0\\.1:${closed} on the host \\(ECONNREFUSED`));
		assert.equal(await exchange('127.0.0.2', closed, '\x16\x03\x01 not http'), '');
	} finally {
		await forward.close();
	}
});

test('the LLM already answering on the listen address: direct, no listener', async () => {
	const port = await echoServer('127.0.0.3');
	const forward = await LlmForward.open({ listenHost: '127.0.0.3', port, targetHost: '127.0.0.1', targetPort: port });
	try {
		assert.equal(forward.status().mode, 'direct');
		assert.equal(forward.status().boundPort, port);
	} finally {
		await forward.close();
	}
});

test("an address that is not (yet) the host's: pending, retried until closed", async () => {
	// 198.51.100.0/24 is TEST-NET-2: assigned to no host, so listening there fails with EADDRNOTAVAIL
	const forward = await LlmForward.open({ listenHost: '198.51.100.77', port: 11434, targetHost: '127.0.0.1', targetPort: 11434 });
	assert.equal(forward.status().mode, 'pending');
	assert.match(forward.status().error ?? '', /not an address of this host/);
	await forward.close();
	assert.equal(forward.status().mode, 'pending');
});

test("the forward's port is known before it opens: free, answered by the LLM itself, or an address still to come", async () => {
	const free = await echoServer('127.0.0.1');
	assert.equal(await predictForwardPort('127.0.0.2', free), free);
	const answered = await echoServer('127.0.0.4');
	assert.equal(await predictForwardPort('127.0.0.4', answered), answered);
	assert.equal(await predictForwardPort('198.51.100.77', 11434), 11434);
	// and the forward then takes that very port
	const forward = await LlmForward.open({ listenHost: '127.0.0.2', port: free, targetHost: '127.0.0.1', targetPort: free });
	assert.equal(forward.status().boundPort, free);
	await forward.close();
});
