/**
Every benchmark module, in the order the runner runs them. A new figure set (the UI cost, item 4)
is one more module file and one more line here.
*/

import type {BenchModule} from '../lib/module.js';
import {cost} from './cost.js';
import {fidelity} from './fidelity.js';
import {ingest} from './ingest.js';
import {membership} from './membership.js';
import {recordCost} from './record-cost.js';
import {resilience} from './resilience.js';
import {scale} from './scale.js';
import {sparse} from './sparse.js';
import {startup} from './startup.js';
import {uiCost} from './ui-cost.js';

export const MODULES: readonly BenchModule[] = [ingest, cost, scale, sparse, uiCost, startup, resilience, fidelity, membership, recordCost];
