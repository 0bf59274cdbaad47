// After tsc: dist/image-source.json, the source hash of the agent-runner image's build context (docker/
// and agent-runner/), so an installed package reads it instead of hashing 30-odd files on every command
// (source/buildContext.ts). source/buildContext.test.ts fails when it disagrees with the files.
import { writeFileSync } from 'node:fs';
import { contextFiles, hashContext, precomputedFile } from '../dist/buildContext.js';
import { packageRoot, packageVersion } from '../dist/version.js';

const hash = hashContext(contextFiles(packageRoot), packageVersion);
writeFileSync(new URL(`../${precomputedFile}`, import.meta.url), `${JSON.stringify({ version: packageVersion, hash })}\n`);
