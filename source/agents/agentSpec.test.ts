import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { AgentSpecError, parseAgentSpec, readAgentSpec } from './agentSpec.js';
import { exitCodes } from '../contract.js';

function specError(text: string, file = 'agent.yaml'): AgentSpecError {
	try {
		parseAgentSpec(text, file);
	} catch (error) {
		assert.ok(error instanceof AgentSpecError, `expected AgentSpecError, got ${String(error)}`);
		assert.equal(error.exitCode, exitCodes.usage);
		return error;
	}
	assert.fail('expected an error');
}

test('a full YAML spec', () => {
	const spec = parseAgentSpec(
		['name: reviewer', 'instructions: |', '  Review the files.', '  Be brief.', 'model: qwen2.5-coder:7b', 'tools: [read_file, list_files]', 'max_steps: 5', ''].join('\n'),
		'a.yaml',
	);
	assert.deepEqual(spec, { name: 'reviewer', instructions: 'Review the files.\nBe brief.\n', model: 'qwen2.5-coder:7b', tools: ['read_file', 'list_files'], max_steps: 5 });
});

test('a JSON spec, optional fields absent', () => {
	assert.deepEqual(parseAgentSpec('{"name": "a", "instructions": "do it"}', 'a.json'), { name: 'a', instructions: 'do it' });
});

test('errors name the file, line and field', () => {
	const cases: Array<[string, number, string, RegExp]> = [
		['name: a\ninstructions: x\ntools: [read_file, rm_rf]\n', 3, 'tools', /unknown tool "rm_rf"/],
		['name: a\ninstructions: x\nmax_steps: 0\n', 3, 'max_steps', /positive integer/],
		['name: a\ninstructions: x\nmax_steps: 2.5\n', 3, 'max_steps', /positive integer/],
		['name: a\ninstructions: x\nmax_steps: "3"\n', 3, 'max_steps', /positive integer/],
		['name: a\n\ninstructions: 42\n', 3, 'instructions', /must be a string, not a number/],
		['name: a\ninstructions: x\nmodle: gpt\n', 3, 'modle', /unknown field/],
		['name: a\ninstructions: x\ntools: read_file\n', 3, 'tools', /must be a list/],
		['name: a\ninstructions: x\ntools:\n  - read_file\n  - read_file\n', 5, 'tools', /listed twice/],
		['name: ""\ninstructions: x\n', 1, 'name', /must not be empty/],
		['name: a\ninstructions: x\nnetwork: open\n', 3, 'network', /must be none, internet or \{ allow: \[/],
		['name: a\ninstructions: x\nnetwork:\n  allow:\n    - pypi.org\n    - "a b"\n', 6, 'network', /"a b" is empty or holds a space/],
	];
	for (const [text, line, field, problem] of cases) {
		const error = specError(text);
		assert.equal(error.line, line, `${JSON.stringify(text)}: ${error.message}`);
		assert.equal(error.field, field);
		assert.match(error.message, problem);
		assert.ok(error.message.startsWith(`agent.yaml:${line}: ${field}: `), error.message);
	}
});

test('network: none, internet or an allow list, sent as the runner spells it', () => {
	const network = (text: string) => parseAgentSpec(`name: a\ninstructions: x\nnetwork: ${text}\n`, 'a.yaml').network;
	assert.equal(network('none'), 'none');
	assert.equal(network('internet'), 'internet');
	assert.equal(network('{ allow: [pypi.org:443, 10.0.0.0/8] }'), 'allow:pypi.org:443,10.0.0.0/8');
});

test('missing required fields', () => {
	assert.match(specError('name: a\n').message, /instructions: is required/);
	assert.match(specError('instructions: x\n').message, /name: is required/);
	assert.match(specError('name:\ninstructions: x\n').message, /^agent\.yaml:1: name: is required/);
	assert.match(specError('').message, /empty/);
	assert.match(specError('- a\n- b\n').message, /must be a mapping/);
});

test('syntax errors carry the line, in YAML and JSON', () => {
	const yaml = specError('name: a\ninstructions: x\n  bad: indent\n');
	assert.equal(yaml.field, '(syntax)');
	assert.ok(yaml.line === 2 || yaml.line === 3, yaml.message);
	const json = specError('{\n  "name": "a",\n  "instructions": "x",,\n}\n', 'agent.json');
	assert.equal(json.line, 3, json.message);
	assert.match(json.message, /^agent\.json:3: \(syntax\)/);
	const dup = specError('name: a\nname: b\ninstructions: x\n');
	assert.equal(dup.line, 2);
});

test('readAgentSpec: a missing file is a usage error naming it', () => {
	const dir = mkdtempSync(path.join(tmpdir(), 'stigmer-spec-'));
	assert.throws(
		() => readAgentSpec(path.join(dir, 'nope.yaml')),
		(error: Error & { exitCode?: number }) => /nope\.yaml does not exist/.test(error.message) && error.exitCode === 2,
	);
	writeFileSync(path.join(dir, 'ok.yaml'), 'name: a\ninstructions: b\n');
	assert.equal(readAgentSpec(path.join(dir, 'ok.yaml')).name, 'a');
});

test('every problem is listed, each with its line, in file order', () => {
	const error = specError(['name: 42', 'modle: gpt', 'tools: [read_file, rm_rf, read_file]', 'max_steps: 0', ''].join('\n'));
	assert.deepEqual(
		error.problems.map((p) => [p.line, p.field]),
		[
			[1, 'name'],
			[1, 'instructions'],
			[2, 'modle'],
			[3, 'tools'],
			[3, 'tools'],
			[4, 'max_steps'],
		],
	);
	const lines = error.message.split('\n');
	assert.equal(lines.length, 6);
	assert.match(lines[0]!, /^agent\.yaml:1: name: must be a string, not a number$/);
	assert.match(lines[3]!, /^agent\.yaml:3: tools: unknown tool "rm_rf"/);
	assert.match(lines[4]!, /^agent\.yaml:3: tools: read_file is listed twice$/);
	assert.match(lines[5]!, /^agent\.yaml:4: max_steps: must be a positive integer$/);
	assert.equal(error.line, 1);
	assert.equal(error.field, 'name');
});
