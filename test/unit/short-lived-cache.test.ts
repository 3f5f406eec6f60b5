/** The in-process cache behind validated credentials, clients and resources: expiry, bounds, and when an entry in use is due to be checked again. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecentReads, ShortLivedCache } from '../../packages/server/src/core/short-lived-cache.js';

describe('short-lived cache', () => {
  it('keeps an entry for its time, or until the given expiry when that comes first', () => {
    const cache = new ShortLivedCache<string>(1000);
    cache.set('a', 'A', 0);
    cache.set('b', 'B', 0, 300);
    assert.equal(cache.get('a', 999), 'A');
    assert.equal(cache.get('a', 1000), undefined);
    assert.equal(cache.get('b', 299), 'B');
    assert.equal(cache.get('b', 300), undefined);
  });

  it('drops the oldest entry when full', () => {
    const cache = new ShortLivedCache<number>(1000, 2);
    cache.set('a', 1, 0);
    cache.set('b', 2, 0);
    cache.set('c', 3, 0);
    assert.deepEqual([cache.get('a', 1), cache.get('b', 1), cache.get('c', 1)], [undefined, 2, 3]);
  });

  it('says an entry is ageing once the given share of its time has passed, never once it has expired', () => {
    const cache = new ShortLivedCache<string>(1000);
    cache.set('a', 'A', 0);
    assert.equal(cache.ageing('a', 749, 0.75), false);
    assert.equal(cache.ageing('a', 750, 0.75), true);
    assert.equal(cache.ageing('a', 1000, 0.75), false, 'an expired entry is not renewed: it is gone');
    assert.equal(cache.ageing('missing', 750, 0.75), false);
  });

  it('keeps reads, an answer of none included, unless told not to or a change came while reading', async () => {
    const reads = new RecentReads<string | undefined>(1000);
    let loads = 0;
    const load = (value: string | undefined) => async () => (loads++, value);
    assert.equal(await reads.read('none', 0, load(undefined)), undefined);
    assert.equal(await reads.read('none', 1, load('late')), undefined, 'no such thing is kept too');
    assert.equal(await reads.read('skip', 0, load('A'), () => false), 'A');
    assert.equal(await reads.read('skip', 1, load('B')), 'B', 'not kept when keep says no');
    const racing = reads.read('race', 0, load('old'));
    reads.forget('race');
    assert.equal(await racing, 'old');
    assert.equal(await reads.read('race', 1, load('new')), 'new', 'a read under way when a change came is not kept');
    assert.equal(loads, 5);
  });
});
