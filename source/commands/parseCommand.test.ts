import assert from 'node:assert/strict';
import { test } from 'node:test';
import { commandDefinitions, commandHelp } from './definitions.ts';
import { parseCommand } from './parseCommand.ts';
import { UsageError } from '../errors.ts';

function parse<N extends keyof typeof commandDefinitions>(name: N, argv: string[]) {
	const result = parseCommand<(typeof commandDefinitions)[N]['flags']>(commandDefinitions[name], argv);
	if (result.help !== null) assert.fail('a help request');
	return result;
}

function usageError(name: keyof typeof commandDefinitions, argv: string[]): string {
	try {
		parseCommand(commandDefinitions[name], argv);
	} catch (error) {
		assert.ok(error instanceof UsageError, String(error));
		return error.message;
	}
	assert.fail(`stigmer ${name} ${argv.join(' ')} was accepted`);
}

test('server logs: short and long flags, values attached or apart, positionals among them', () => {
	const a = parse('server logs', ['-f', '-n', '3', 'api', '--since=10m', '-t', 'agent-runner']);
	assert.deepEqual(a.input, ['api', 'agent-runner']);
	assert.equal(a.flags.follow, true);
	assert.equal(a.flags.tail, '3');
	assert.equal(a.flags.since, '10m');
	assert.equal(a.flags.timestamps, true);
	assert.equal(a.flags.json, undefined);
	assert.equal(parse('server logs', ['-n5']).flags.tail, '5');
	assert.equal(parse('server logs', ['--tail', 'all']).flags.tail, 'all');
	// a value is kept as text, never turned into a number
	assert.equal(parse('server logs', ['-n', '007']).flags.tail, '007');
});

test('server start: --no-wait, --build, --timeout', () => {
	const a = parse('server start', ['--no-wait', '--timeout', '2.5', 'svc']);
	assert.equal(a.flags.wait, false);
	assert.equal(a.flags.timeout, '2.5');
	assert.deepEqual(a.input, ['svc']);
	const b = parse('server start', []);
	assert.equal(b.flags.wait, true);
	assert.equal(b.flags.build, undefined);
});

test('run: repeatable --file, - as the prompt', () => {
	const a = parse('run', ['agent.yaml', '-', '-f', 'a.txt', '--file', 'b.txt', '-d']);
	assert.deepEqual(a.input, ['agent.yaml', '-']);
	assert.deepEqual(a.flags.file, ['a.txt', 'b.txt']);
	assert.equal(a.flags.detach, true);
	assert.deepEqual(parse('run', ['a', 'b']).flags.file, []);
	assert.deepEqual(parse('run', ['a', '--', '--not-a-flag']).input, ['a', '--not-a-flag']);
});

test('shell: the command line after -- (or after the first word) is left alone', () => {
	assert.deepEqual(parse('shell', ['--', 'ls', '-la', '--home', 'x']).input, ['ls', '-la', '--home', 'x']);
	assert.deepEqual(parse('shell', ['ls', '-la']).input, ['ls', '-la']);
	assert.deepEqual(parse('shell', []).input, []);
	assert.match(usageError('shell', ['-x']), /^shell: Unknown option '-x'$/);
});

test('usage errors name the command and the argument', () => {
	assert.match(usageError('server status', ['--jsn']), /^server status: Unknown option '--jsn'$/);
	assert.match(usageError('server status', ['extra']), /^server status: Unexpected argument 'extra'/);
	assert.match(usageError('server logs', ['-x']), /Unknown option '-x'/);
	assert.match(usageError('server logs', ['-fx']), /Unknown option '-x'/);
	assert.match(usageError('server logs', ['--since', '1m', '--since', '2m']), /^server logs: The flag --since can only be set once$/);
	// -n takes the next word as its value, even one that looks like a flag
	assert.equal(parse('server logs', ['-n', '-1']).flags.tail, '-1');
});

test('--help and -h give the help meow formats from the definition, for every command', () => {
	for (const [name, definition] of Object.entries(commandDefinitions)) {
		for (const flag of ['--help', '-h']) {
			const result = parseCommand(definition, [flag]);
			assert.ok(result.help !== null, `${name} ${flag}`);
			assert.match(result.help, new RegExp(`^\\n  Usage: stigmer ${name}`));
			assert.match(result.help, /-h, --help {2,}this help/);
		}
		for (const [key, flag] of Object.entries(definition.flags)) if (flag.help) assert.match(commandHelp(definition), new RegExp(`--(no-)?${key}\\b`));
	}
});
