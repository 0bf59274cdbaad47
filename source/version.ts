import { readFileSync } from 'node:fs';

// package.json sits one level above both source/ (tsx) and dist/ (compiled).
export const packageRoot = new URL('..', import.meta.url).pathname;
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string; description: string };
export const packageVersion: string = packageJson.version;
/** The one-line description that `stigmer --help` starts with. */
export const packageDescription: string = packageJson.description;
