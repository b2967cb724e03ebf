//! The CLINC150 evaluation's protocol on a small data set of the same shape,
//! with the encoder fine-tuned on the exemplars first. Needs all-MiniLM-L6-v2
//! in `AOS_MODEL_DIR` (see `scripts/fetch-model.sh`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use knowledge::embed::AdaptOptions;
use personas::eval::clinc::{ClincData, EvalOptions, evaluate};

fn rows(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(t, l)| (t.to_string(), l.to_string()))
        .collect()
}

fn data() -> ClincData {
    ClincData {
        train: rows(&[
            ("what's my checking account balance", "balance"),
            ("how much money is in my savings", "balance"),
            ("tell me my account balance", "balance"),
            ("how much cash do i have in the bank", "balance"),
            ("show the balance of my bank account", "balance"),
            ("play some jazz music", "play_music"),
            ("put on my workout playlist", "play_music"),
            ("start playing the latest taylor swift album", "play_music"),
            ("i want to hear some classical music", "play_music"),
            ("play a song by the beatles", "play_music"),
            ("set an alarm for 7 am", "alarm"),
            ("wake me up at six tomorrow", "alarm"),
            ("create an alarm for noon", "alarm"),
            ("i need an alarm at 5:30", "alarm"),
            ("set my alarm for eight in the morning", "alarm"),
        ]),
        val: rows(&[
            ("what is the balance on my credit union account", "balance"),
            ("how much is left in my bank account", "balance"),
            ("play the new album by adele", "play_music"),
            ("can you play some rock songs", "play_music"),
            ("please set an alarm for 6:45", "alarm"),
            ("wake me at 9 am on saturday", "alarm"),
        ]),
        oos_train: rows(&[
            ("how tall is mount everest", "oos"),
            ("what's the recipe for lasagna", "oos"),
            ("who won the world cup in 2018", "oos"),
        ]),
        oos_val: rows(&[
            ("how do i grow tomatoes", "oos"),
            ("what is the capital of peru", "oos"),
        ]),
    }
}

#[tokio::test]
async fn the_fine_tuned_encoder_is_scored_on_val_with_its_operating_points() {
    let embedder = common::local_embedder();
    let adapt = AdaptOptions {
        epochs: 2,
        batch_size: 3,
        ..AdaptOptions::default()
    };
    let options = EvalOptions {
        shots: 3,
        adapt: Some(adapt),
        target_oos_recall: 0.7,
    };
    let report = evaluate(&embedder, &data(), &options).await.unwrap();
    assert_eq!((report.intents, report.shots), (3, 3));
    assert_eq!(report.heldout, (6, 3));
    assert_eq!(report.adaptation, Some(adapt));
    assert!(report.adaptation_seconds > 0.0);
    assert!(report.accuracy >= 5.0 / 6.0, "{report:?}");
    let chosen: Vec<&str> = report
        .tradeoff
        .iter()
        .map(|p| p.chosen_by.as_str())
        .collect();
    assert_eq!(
        chosen,
        [
            "held-out F1",
            "held-out recall 60%",
            "held-out recall 70%",
            "held-out recall 80%"
        ]
    );

    let plain = EvalOptions {
        adapt: None,
        ..options
    };
    let report = evaluate(&embedder, &data(), &plain).await.unwrap();
    assert_eq!((report.adaptation, report.adaptation_seconds), (None, 0.0));
}
