/**
Frames into whole messages for the ROUTER and DEALER sockets: the parts of a multipart message are
kept until the last one (no MORE flag) arrives, and their sum is bounded, as libzmq's
`maxMessageSize` bounds a whole message. (The frame decoder bounds each frame and the connection the
number of parts.)
*/

import {FLAG_MORE} from './frame.js';

export class MessageAssembler {
	readonly #maxMessageBytes: number;
	#parts: Buffer[] = [];
	#bytes = 0;

	constructor(maxMessageBytes: number) {
		this.#maxMessageBytes = maxMessageBytes;
	}

	/**
	Take one frame. Returns the whole message when this frame ended it, `'oversize'` when the message
	has grown past the bound (its parts are forgotten), or undefined while it is still arriving.
	*/
	push(flags: number, body: Buffer): Buffer[] | 'oversize' | undefined {
		this.#bytes += body.length;
		if (this.#bytes > this.#maxMessageBytes) {
			this.reset();
			return 'oversize';
		}

		this.#parts.push(body);
		if ((flags & FLAG_MORE) !== 0) {
			return undefined;
		}

		const message = this.#parts;
		this.reset();
		return message;
	}

	/** Forget a message still arriving (its connection closed). */
	reset(): void {
		this.#parts = [];
		this.#bytes = 0;
	}
}
