"""SLIP-39 shares of the share key, through ``shamir-mnemonic`` (SatoshiLabs' reference implementation).

The library does the splitting, the checksums and the share passphrase; this module decides which shares
to hand it and turns its errors into ours. Its messages quote a share's first words, so none is passed on:
ours name a share by its position in what the user typed and a word by its number, never by the word.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import shamir_mnemonic
from shamir_mnemonic.shamir import ShareGroup
from shamir_mnemonic.wordlist import WORD_INDEX_MAP

from walletsync.vault.errors import ShareError, SharesDoNotOpen, TooFewShares

SHARE_WORDS = (20, 33)  # a 128-bit secret's shares have 20 words, a 256-bit one's (ours) 33
ITERATION_EXPONENT = 1  # SLIP-39's own passphrase stretch (PBKDF2, 20 000 rounds); the share key is random anyway


@dataclass(frozen=True)
class ShareSpec:
    """How to split: ``groups`` of (member threshold, member count), ``group_threshold`` of them needed.

    ``passphrase`` is SLIP-39's optional one (printable ASCII), needed with the shares to open.
    """

    groups: tuple[tuple[int, int], ...]
    group_threshold: int = 1
    passphrase: str = ""

    @classmethod
    def simple(cls, threshold: int, count: int, passphrase: str = "") -> ShareSpec:
        """T of N shares in one group (``--shares N --threshold T``)."""
        return cls(((threshold, count),), 1, passphrase)

    def check(self) -> None:
        """ValueError naming the problem if SLIP-39 cannot split this way."""
        if not 1 <= len(self.groups) <= 16:
            raise ValueError("from 1 to 16 groups")
        if not 1 <= self.group_threshold <= len(self.groups):
            raise ValueError(f"the group threshold must be from 1 to the number of groups ({len(self.groups)})")
        for threshold, count in self.groups:
            if not 1 <= threshold <= count <= 16:
                raise ValueError(f"a threshold of {threshold} of {count} shares: need 1 <= threshold <= shares <= 16")
            if threshold == 1 and count > 1:
                raise ValueError("a threshold of 1 with several shares is one secret copied: use --shares 1")
        if not all(32 <= ord(c) <= 126 for c in self.passphrase):
            raise ValueError("a share passphrase must be printable ASCII (SLIP-39)")


@dataclass(frozen=True)
class ShareInfo:
    """What a valid share says about itself (nothing secret): its set, its group and its place."""

    identifier: int
    group_index: int
    group_threshold: int
    group_count: int
    member_index: int
    member_threshold: int


def split(share_key: bytes, spec: ShareSpec, identifier: int) -> list[list[str]]:
    """The shares, group by group. ``identifier`` (15 bits) names the set; the caller draws it at random."""
    spec.check()
    secret = shamir_mnemonic.EncryptedMasterSecret.from_master_secret(
        share_key, spec.passphrase.encode("ascii"), identifier, True, ITERATION_EXPONENT
    )
    groups = shamir_mnemonic.split_ems(spec.group_threshold, list(spec.groups), secret)
    return [[share.mnemonic() for share in group] for group in groups]


def _normalised(mnemonic: str) -> str:
    return " ".join(mnemonic.lower().split())


def read_share(mnemonic: str, position: int = 1) -> shamir_mnemonic.Share:
    """One share, checked: :class:`ShareError` naming the share's ``position`` and the word at fault."""
    words = _normalised(mnemonic).split()
    where = f"share {position}"
    if not words:
        raise ShareError(f"{where} is empty")
    for number, word in enumerate(words, start=1):
        if word not in WORD_INDEX_MAP:
            raise ShareError(f"{where}: word {number} is not in the SLIP-39 word list (mistyped?)")
    if len(words) not in SHARE_WORDS:
        raise ShareError(f"{where} has {len(words)} words; a share has {' or '.join(map(str, SHARE_WORDS))}")
    try:
        return shamir_mnemonic.Share.from_mnemonic(" ".join(words))
    except shamir_mnemonic.MnemonicError as exc:
        if "checksum" in str(exc):
            raise ShareError(f"{where}: the checksum fails, so a word is mistyped or out of place") from None
        raise ShareError(f"{where} is not a valid SLIP-39 share (its padding or parameters are wrong)") from None


def check_share(mnemonic: str) -> ShareInfo:
    """What a share says about itself, once its checksum passes (``backup check-share``)."""
    share = read_share(mnemonic)
    return ShareInfo(
        identifier=share.identifier,
        group_index=share.group_index + 1,
        group_threshold=share.group_threshold,
        group_count=share.group_count,
        member_index=share.index + 1,
        member_threshold=share.member_threshold,
    )


def combine(mnemonics: Iterable[str], passphrase: str, identifier: int) -> bytes:
    """The share key from enough shares of the set ``identifier``.

    Each share is checked on its own first; then :class:`ShareError` for a share of another set,
    :class:`TooFewShares` saying how many more are needed, :class:`SharesDoNotOpen` if the shares
    combine to nothing or to another key (wrong share passphrase).
    """
    groups: dict[int, ShareGroup] = {}
    params = None
    seen: set[str] = set()
    for position, mnemonic in enumerate(mnemonics, start=1):
        share = read_share(mnemonic, position)
        if share.identifier != identifier:
            raise ShareError(f"share {position} belongs to another backup's share set")
        if params is None:
            params = share.common_parameters()
        elif share.common_parameters() != params:
            raise ShareError(f"share {position} does not match the other shares' thresholds (another share set?)")
        if share.mnemonic() in seen:
            continue
        seen.add(share.mnemonic())
        try:
            groups.setdefault(share.group_index, ShareGroup()).add(share)
        except shamir_mnemonic.MnemonicError:
            raise ShareError(f"share {position} does not fit with the shares before it (another share set?)") from None
    if params is None:
        raise TooFewShares("no shares were given")
    complete = {index: group.get_minimal_group() for index, group in groups.items() if group.is_complete()}
    if len(complete) < params.group_threshold:
        raise TooFewShares(_missing(groups, params.group_threshold))
    chosen = dict(sorted(complete.items())[: params.group_threshold])
    try:
        secret = shamir_mnemonic.recover_ems(chosen)
        return bytes(secret.decrypt(passphrase.encode("utf-8")))
    except shamir_mnemonic.MnemonicError:
        raise SharesDoNotOpen("these shares do not combine (one is from another share set)") from None


def _missing(groups: dict[int, ShareGroup], group_threshold: int) -> str:
    if group_threshold == 1 and len(groups) <= 1:
        group = next(iter(groups.values()))
        need = group.member_threshold() - len(group)
        return f"{len(group)} of {group.member_threshold()} shares given: {need} more needed"
    done = sum(1 for g in groups.values() if g.is_complete())
    lines = [f"{done} of {group_threshold} groups complete"]
    for index, group in sorted(groups.items()):
        if not group.is_complete():
            lines.append(f"group {index + 1}: {len(group)} of {group.member_threshold()} shares")
    return "; ".join(lines)
