/**
What a reloaded allow file changes (security/curve/reload.ts): pure, two lists and the subscriptions in.
*/

import * as zmq from 'zeromq';
import {describe, expect, it} from 'vitest';
import {AllowList} from '../../../source/mesh/security/curve/allow-list.js';
import {planAllowListChange} from '../../../source/mesh/security/curve/reload.js';

const [k1, k2, k3, k4] = Array.from({length: 4}, () => zmq.curveKeyPair().publicKey);
const [endpoint1, endpoint2, endpoint3, endpoint4] = ['tcp://10.0.0.1:5555', 'tcp://10.0.0.2:5555', 'tcp://10.0.0.3:5555', 'tcp://10.0.0.4:5555'];

describe('planAllowListChange', () => {
	it('counts keys in and out, and says which subscriptions to close, redial and open', () => {
		const before = new AllowList([
			{publicKey: k1!, nodeId: 'a', endpoint: endpoint1},
			{publicKey: k2!, nodeId: 'b', endpoint: endpoint2},
			{publicKey: k3!, nodeId: 'c'},
		]);
		const after = new AllowList([
			// endpoint1 keeps its key; endpoint2 gets a new one; k3 goes; k4 comes with endpoint4, which was waiting for a key.
			{publicKey: k1!, nodeId: 'a', endpoint: endpoint1},
			{publicKey: k2!, nodeId: 'b'},
			{publicKey: k4!, nodeId: 'd', endpoint: endpoint2},
			{publicKey: k4!, nodeId: 'd', endpoint: endpoint4},
		]);
		const change = planAllowListChange(before, after, [endpoint1, endpoint2, endpoint3], [endpoint4]);
		expect(change).toEqual({keysAdded: 1, keysRemoved: 1, keys: 3, reopen: [endpoint2], close: [endpoint3], open: [endpoint4]});
	});

	it('changes nothing for the same list', () => {
		const list = new AllowList([{publicKey: k1!, endpoint: endpoint1}]);
		expect(planAllowListChange(list, new AllowList([...list.entries]), [endpoint1], [])).toEqual({keysAdded: 0, keysRemoved: 0, keys: 1, reopen: [], close: [], open: []});
	});
});
