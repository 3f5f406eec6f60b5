/**
 * The region choice on the front's authorization endpoint. The client's query string is passed to
 * the chosen region untouched (the region validates it), minus the front's own `region` parameter;
 * the destination is always a configured region's authorization endpoint, so the front is never an
 * open redirector.
 */
import type { Region } from '../../config.js';
import { ENDPOINTS } from '../../core/endpoints.js';

/** Added by the picker's links; a client that knows the user's region may send it too. */
const REGION_PARAM = 'region';
/** The user's last choice, so the picker is shown once. */
export const REGION_COOKIE = 'tessera_region';

export type RegionChoice =
  | { kind: 'redirect'; location: string; region: Region; chosenNow: boolean }
  | { kind: 'picker'; query: string }
  | { kind: 'refused'; message: string };

function decodeFormComponent(value: string): string | undefined {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/** Splits the raw query into the front's `region` values and the rest, kept byte for byte. */
export function splitRegionParam(rawQuery: string): { query: string; requested: string[] } {
  const rest: string[] = [];
  const requested: string[] = [];
  for (const part of rawQuery.split('&')) {
    const separator = part.indexOf('=');
    const name = decodeFormComponent(separator < 0 ? part : part.slice(0, separator));
    if (name === REGION_PARAM) requested.push(decodeFormComponent(separator < 0 ? '' : part.slice(separator + 1)) ?? '');
    else rest.push(part);
  }
  return { query: rest.join('&'), requested };
}

function regionalAuthorizeUrl(region: Region, query: string): string {
  return `${region.baseUrl}${ENDPOINTS.authorize}${query ? `?${query}` : ''}`;
}

/** Where the picker's link for a region points: back to the front, with the choice added. */
export function pickerLink(region: Region, query: string): string {
  return `${ENDPOINTS.authorize}?${query ? `${query}&` : ''}${REGION_PARAM}=${encodeURIComponent(region.name)}`;
}

/** `prompt=select_account` asks for the choice again instead of using the remembered one. */
function asksToChoose(query: string): boolean {
  return (new URLSearchParams(query).get('prompt') ?? '').split(' ').includes('select_account');
}

export function chooseRegion(regions: Region[], rawQuery: string, remembered: string | undefined): RegionChoice {
  // Printable ASCII only: the query goes into a Location header unchanged.
  if (!/^[\x21-\x7e]*$/.test(rawQuery)) return { kind: 'refused', message: 'The authorization request is malformed.' };
  const { query, requested } = splitRegionParam(rawQuery);
  if (requested.length > 1) return { kind: 'refused', message: 'The request names more than one region.' };
  if (requested.length === 1) {
    const region = regions.find((candidate) => candidate.name === requested[0]);
    if (!region) return { kind: 'refused', message: 'There is no such region.' };
    return { kind: 'redirect', location: regionalAuthorizeUrl(region, query), region, chosenNow: true };
  }
  const rememberedRegion = regions.find((candidate) => candidate.name === remembered);
  if (rememberedRegion && !asksToChoose(query)) {
    return { kind: 'redirect', location: regionalAuthorizeUrl(rememberedRegion, query), region: rememberedRegion, chosenNow: false };
  }
  return { kind: 'picker', query };
}

/** Region names people read more easily as places; any other name is shown as "<NAME> region". */
const REGION_WORDS: Readonly<Record<string, string>> = {
  us: 'United States',
  eu: 'European Union',
  uk: 'United Kingdom',
  ca: 'Canada',
  au: 'Australia',
  jp: 'Japan',
  in: 'India',
  de: 'Germany',
  fr: 'France',
  sg: 'Singapore',
  br: 'Brazil',
  ap: 'Asia Pacific',
  apac: 'Asia Pacific',
};

/** "United States (US)", "European Union (EU)": what the picker's buttons say. */
export function regionLabel(region: Region): string {
  const words = REGION_WORDS[region.name];
  return words ? `${words} (${region.name.toUpperCase()})` : `${region.name.toUpperCase()} region`;
}

/**
 * A region that does not know the request's client offers the others, through the front (the
 * issuer), which sends the same request on to the region picked.
 */
export function otherRegionLinks(issuer: string, regions: Region[], current: Region, rawQuery: string): Array<{ href: string; label: string }> {
  const { query } = splitRegionParam(rawQuery);
  return regions.filter((region) => region.name !== current.name).map((region) => ({ href: `${issuer}${pickerLink(region, query)}`, label: `Try ${regionLabel(region)}` }));
}
