"""From an article to proposed incidents, every field with the sentence it rests on (docs/extraction.md).

Rule-based and offline. Where each part lives:

- sentences.py: the article's sentences, with their character offsets;
- cues.py: the words that make a clause about an attack, or about none, and those that tell attacks apart;
- figures.py: killed and wounded as stated, the attackers' dead apart;
- dates.py: dates at their precision, resolved against the publication date;
- places.py: places through the gazetteer, datelines, which place lies in which;
- groups.py: perpetrator groups by the registry's spellings, and their attribution;
- attacks.py: clauses become mentions, mentions become attacks (`propose`);
- proposals.py: what is proposed, with its evidence;
- review.py: matches against the database, and the review file;
- pages.py: a saved web page's main text, date, address and outlet.
"""

from incidents.extract.attacks import propose
from incidents.extract.groups import Groups
from incidents.extract.proposals import Evidence, Perpetrator, Proposal
from incidents.extract.review import check_review_article, matches, registry_spellings, review_digest, review_text
from incidents.extract.sentences import Sentence, sentences

__all__ = ["Evidence", "Groups", "Perpetrator", "Proposal", "Sentence", "check_review_article", "matches", "propose",
           "registry_spellings", "review_digest", "review_text", "sentences"]
