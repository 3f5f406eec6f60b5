/** An app's logo, or its initial on a tinted square when it has none (consent page, connected apps). */
export function AppLogo({ name, logoUri, size }: { name: string; logoUri: string | null; size: number }) {
  if (logoUri) return <img class="logo" src={logoUri} alt="" width={size} height={size} referrerpolicy="no-referrer" />;
  const initial = Array.from(name.trim())[0]?.toUpperCase() ?? '?';
  return (
    <span class={`logo placeholder size-${size}`} aria-hidden="true">
      {initial}
    </span>
  );
}
