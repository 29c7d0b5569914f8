/**
Which engine serves an endpoint. Plain tcp:// goes through the built-in ZMTP engine and inproc://
through the in-memory bus, the two cheap paths; libzmq takes everything else, and everything when
CURVE is on (only libzmq speaks it) or when the operator asks for it (`--engine libzmq`).
Choosing libzmq loads nothing yet: zeromq.js is loaded when its first socket is made (libzmq.ts).
*/

import type {Engine} from './engine.js';
import {inprocEngine} from './inproc.js';
import {libzmqEngine, type LibzmqSocketOptions} from './libzmq.js';
import {zmtpEngine} from './zmtp.js';

export const ENGINE_CHOICES = ['builtin', 'libzmq'] as const;
export type EngineChoice = (typeof ENGINE_CHOICES)[number];

export type EngineSelector = (endpoint: string) => Engine;

export function engineSelector(choice: EngineChoice, libzmqOptions: LibzmqSocketOptions): EngineSelector {
	const libzmq = libzmqEngine(libzmqOptions);
	const secured = libzmqOptions.publisherOptions !== undefined || libzmqOptions.subscriberOptions !== undefined;
	if (choice === 'libzmq' || secured) {
		return () => libzmq;
	}

	return (endpoint) => {
		if (endpoint.startsWith('tcp://')) {
			return zmtpEngine;
		}

		if (endpoint.startsWith('inproc://')) {
			return inprocEngine;
		}

		return libzmq;
	};
}
