/**
 * Text that looks like other text: the confusable skeleton of Unicode Technical Standard #39 §4,
 * used to keep third-party client names from passing for the platform. `unhomoglyph` maps each
 * character to its prototype in the Unicode confusables data (confusables.txt); the skeleton is
 * NFD, default-ignorable code points removed, that mapping, NFD again.
 */
import unhomoglyph from 'unhomoglyph';

/** Characters that show nothing, or change the direction of what follows, or are controls. */
const HIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/u;
const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/gu;

/** True when the text holds an invisible, direction-changing (RLO, isolates…) or control character. */
export function hasHiddenCharacters(text: string): boolean {
  return HIDDEN.test(text);
}

/** UTS #39 skeleton(X): two strings whose skeletons are equal look alike. Not for display. */
export function skeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD').replace(DEFAULT_IGNORABLE, '')).normalize('NFD');
}

/**
 * Case-insensitive forms to compare in. The skeleton is case-sensitive and so is the data: a
 * Cyrillic capital Т looks like T but its lowercase т does not look like t, while a capital I looks
 * like l. So text is compared both lowercased before the skeleton and after it.
 */
const FOLDS = [(text: string) => skeleton(text.toLowerCase()).toLowerCase(), (text: string) => skeleton(text).toLowerCase()];

/** The first of `words` that `text` contains or contains a look-alike of; undefined when none. */
export function lookAlikeOf(text: string, words: readonly string[]): string | undefined {
  const nfkc = text.normalize('NFKC');
  return words.find((word) => FOLDS.some((fold) => fold(nfkc).includes(fold(word.normalize('NFKC')))));
}
