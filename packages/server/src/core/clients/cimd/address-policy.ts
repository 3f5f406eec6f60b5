/**
 * The SSRF guard for CIMD fetches: only ordinary public unicast addresses may be connected to.
 * Everything special-use is refused — loopback, private, link-local (which holds the cloud
 * metadata address 169.254.169.254), CGNAT (Alibaba's 100.100.100.200), unique-local (AWS's
 * fd00:ec2::254), multicast, broadcast, reserved, documentation and unspecified ranges — and an
 * IPv6 address that embeds an IPv4 one (IPv4-mapped, IPv4-translated, NAT64 64:ff9b::/96) is
 * judged by the IPv4 address inside.
 */
import ipaddr from 'ipaddr.js';

export interface AddressPolicy {
  /** Development and tests only: loopback addresses are allowed too. */
  allowLoopback: boolean;
}

const NAT64_WELL_KNOWN = ipaddr.parseCIDR('64:ff9b::/96');

function embeddedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const range = address.range();
  if (range !== 'ipv4Mapped' && range !== 'rfc6145' && !address.match(NAT64_WELL_KNOWN)) return undefined;
  const [high, low] = address.parts.slice(6) as [number, number];
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/** Whether a resolved address (as DNS returns it, or an IP literal without brackets) may be fetched from. */
export function isFetchableAddress(address: string, policy: AddressPolicy): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6') parsed = embeddedIPv4(parsed as ipaddr.IPv6) ?? parsed;
  const range = parsed.range();
  return range === 'unicast' || (policy.allowLoopback && range === 'loopback');
}
