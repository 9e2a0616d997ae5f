// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// A counter the deploy script calls twice, and whose refusal is a custom error a client must be shown.
contract Counter {
    /// Asked to add more than the limit at once.
    error TooMuch(uint256 asked, uint256 limit);

    uint256 public constant LIMIT = 100;
    uint256 public count;

    function add(uint256 amount) external {
        if (amount > LIMIT) revert TooMuch(amount, LIMIT);
        count += amount;
    }
}
