// Both process-facts implementations on this host (Linux: /proc and ps/lsof both work here) tell the
// same facts; the parsers of the portable one; the page size.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { fromAuxv, pageSize } from './pageSize.js';
import { createProcessFacts, processFacts } from './ProcessFacts.js';
import { ProcFsFacts } from './ProcFsFacts.js';
import { PsFacts, parseCpuTime, parsePsLine } from './PsFacts.js';

const hasProcFs = existsSync('/proc/self/stat');
const procfs = new ProcFsFacts();
const ps = new PsFacts();

test('the implementation: /proc where it exists, ps otherwise, or the one STIGMER_PROCESS_FACTS names', () => {
	assert.equal(createProcessFacts(undefined, true).kind, 'procfs');
	assert.equal(createProcessFacts(undefined, false).kind, 'ps');
	assert.equal(createProcessFacts('ps', true).kind, 'ps');
	assert.equal(createProcessFacts('procfs', false).kind, 'procfs');
	assert.throws(() => createProcessFacts('sysctl', true), /STIGMER_PROCESS_FACTS must be "procfs" or "ps"/);
	assert.equal(processFacts().kind, process.env.STIGMER_PROCESS_FACTS ?? (hasProcFs ? 'procfs' : 'ps'));
});

test('ps output: lines and CPU times of procps and BSD ps', () => {
	assert.deepEqual(parsePsLine('  4242     1  4242 Ss     10240 00:01:02 Mon Nov 30 10:31:55 2026'), {
		pid: 4242,
		ppid: 1,
		pgrp: 4242,
		state: 'S',
		rssBytes: 10240 * 1024,
		cpuMs: 62_000,
		startTime: 'Mon_Nov_30_10:31:55_2026',
	});
	assert.equal(parsePsLine('  77  1 77 Z+ 0 0:00.05 Tue Dec  1 09:00:00 2026')?.state, 'Z');
	assert.equal(parsePsLine('PID PPID'), null);
	assert.equal(parseCpuTime('0:00.05'), 50);
	assert.equal(parseCpuTime('12:34.56'), 754_560);
	assert.equal(parseCpuTime('01:00:00'), 3_600_000);
	assert.equal(parseCpuTime('2-01:00:00'), 2 * 86_400_000 + 3_600_000);
});

test('the page size: from the auxiliary vector, as getconf says', () => {
	const size = pageSize();
	assert.ok(size >= 4096 && (size & (size - 1)) === 0, String(size));
	assert.equal(size, Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim()));
	// AT_PAGESZ (6) = 16 KiB among other entries, 64-bit little endian; then 32-bit big endian with 64 KiB
	const le = Buffer.alloc(64);
	[
		[33, 0x7fff0000],
		[6, 16384],
		[0, 0],
	].forEach(([type, value], i) => {
		le.writeBigUInt64LE(BigInt(type!), i * 16);
		le.writeBigUInt64LE(BigInt(value!), i * 16 + 8);
	});
	assert.equal(fromAuxv(le, 8, true), 16384);
	const be = Buffer.alloc(24);
	[
		[16, 1],
		[6, 65536],
		[0, 0],
	].forEach(([type, value], i) => {
		be.writeUInt32BE(type!, i * 8);
		be.writeUInt32BE(value!, i * 8 + 4);
	});
	assert.equal(fromAuxv(be, 4, false), 65536);
	assert.equal(fromAuxv(Buffer.alloc(32), 8, true), null);
	assert.equal(fromAuxv(null), null);
});

test('/proc and ps tell the same facts about a process tree, its start time and its port', { skip: !hasProcFs && 'no /proc here' }, async (t) => {
	const child = spawn('sh', ['-c', 'sleep 30 & sleep 30 & wait'], { stdio: 'ignore' });
	t.after(() => child.kill('SIGKILL'));
	for (let i = 0; i < 100 && procfs.tree(child.pid!).length < 3; i++) await sleep(20);
	for (const facts of [procfs, ps]) {
		const me = facts.info(process.pid)!;
		assert.equal(me.pid, process.pid, facts.kind);
		assert.equal(me.ppid, process.ppid, facts.kind);
		assert.equal(me.pgrp, procfs.info(process.pid)!.pgrp, facts.kind);
		assert.ok(me.rssBytes > 1024 * 1024, facts.kind);
		assert.ok(me.startTime !== '', facts.kind);
		assert.equal(facts.info(process.pid)!.startTime, me.startTime, `${facts.kind}: the start time is stable`);
		assert.equal(facts.info(2 ** 22 + 1), null, facts.kind);
		assert.deepEqual(
			facts
				.tree(child.pid!)
				.map((p) => p.pid)
				.sort(),
			procfs
				.tree(child.pid!)
				.map((p) => p.pid)
				.sort(),
			facts.kind,
		);
		assert.equal(facts.tree(child.pid!).length, 3, facts.kind);
		assert.deepEqual(facts.tree(2 ** 22 + 1), [], facts.kind);
		assert.ok(
			facts.all().some((p) => p.pid === child.pid),
			facts.kind,
		);
		assert.equal(facts.commandLine(child.pid!), 'sh -c sleep 30 & sleep 30 & wait', facts.kind);
	}
	// RSS of the same process, read twice in a row: the page size is right when they agree closely
	const a = procfs.info(process.pid)!.rssBytes;
	const b = ps.info(process.pid)!.rssBytes;
	assert.ok(Math.abs(a - b) < Math.max(a, b) * 0.25, `procfs ${a} vs ps ${b}`);

	const server = createServer();
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	t.after(() => server.close());
	const port = (server.address() as { port: number }).port;
	assert.equal(procfs.portOwner(port)?.pid, process.pid);
	const lsof = spawn('lsof', ['-v'], { stdio: 'ignore' });
	const hasLsof = await new Promise<boolean>((resolve) => lsof.on('error', () => resolve(false)).on('exit', () => resolve(true)));
	if (hasLsof) assert.equal(ps.portOwner(port)?.pid, process.pid);
	else t.diagnostic('lsof is missing: ps.portOwner is not checked (apt-get install lsof)');
	assert.equal(procfs.portOwner(1), null);
	assert.equal(ps.portOwner(1), null);
});
