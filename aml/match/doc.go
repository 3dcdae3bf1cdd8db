// Package match screens names against sanctions and watch lists: it normalises names in any
// script (pinyin for Chinese characters, transliteration for the others, diacritics, word
// order, honorifics, initials, joined and split words), finds candidates through a trigram
// index over the list vocabulary, scores words with Jaro–Winkler on both the spelling and a
// phonetic key, weighs words by how rare they are on the lists, and lets date of birth,
// nationality, gender and entity type raise or lower the score. Every hit explains itself.
package match
